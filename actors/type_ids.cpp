#include "actors/type_ids.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "actors/error.hpp"
#include "actors/interfaces.hpp"

namespace seg {

void register_message_types(caf::actor_system_config& cfg) {
  add_error_category(cfg);
  cfg.add_message_type<segment_params>("seg::segment_params");
  cfg.add_message_type<work_item>("seg::work_item");
  cfg.add_message_type<object_record>("seg::object_record");
  cfg.add_message_type<step_timings>("seg::step_timings");
  cfg.add_message_type<frame_result>("seg::frame_result");
  cfg.add_message_type<job_spec>("seg::job_spec");
  cfg.add_message_type<job_plan>("seg::job_plan");
  cfg.add_message_type<job_event>("seg::job_event");
  cfg.add_message_type<stage_totals>("seg::stage_totals");
  cfg.add_message_type<job_summary>("seg::job_summary");
  cfg.add_message_type<node_frames>("seg::node_frames");
  cfg.add_message_type<lease>("seg::lease");
  cfg.add_message_type<std::vector<lease>>("seg::leases");
  cfg.add_message_type<frame_indices>("seg::frame_indices");
  cfg.add_message_type<status_sink_actor>("seg::status_sink_actor");
  cfg.add_message_type<job_record>("seg::job_record");
  cfg.add_message_type<queue_listing>("seg::queue_listing");
  cfg.add_message_type<std::vector<std::uint64_t>>("seg::job_ids");
  cfg.add_message_type<reader_actor>("seg::reader_actor");
  cfg.add_message_type<exporter_actor>("seg::exporter_actor");
  cfg.add_message_type<queue_control_actor>("seg::queue_control_actor");
  cfg.add_message_type<node_info>("seg::node_info");
  cfg.add_message_type<flat_shape>("seg::flat_shape");
  cfg.add_message_type<flat_source_actor>("seg::flat_source_actor");
  cfg.add_message_type<flat_piece>("seg::flat_piece");
  cfg.add_message_type<node_entry>("seg::node_entry");
  cfg.add_message_type<node_listing>("seg::node_listing");
  cfg.add_message_type<node_registry_actor>("seg::node_registry_actor");
  cfg.add_message_type<tile_stats>("seg::tile_stats");
  cfg.add_message_type<tile_grid>("seg::tile_grid");
  cfg.add_message_type<tile_frame>("seg::tile_frame");
  cfg.add_message_type<tile_object>("seg::tile_object");
  cfg.add_message_type<tile_piece_record>("seg::tile_piece_record");
  cfg.add_message_type<tile_report>("seg::tile_report");
  cfg.add_message_type<tile_stitcher_actor>("seg::tile_stitcher_actor");
}

void configure_actor_system(caf::actor_system_config& cfg, bool network) {
  register_message_types(cfg);
  cfg.set("scheduler.max-threads", 2);
  if (network)
    cfg.load<caf::io::middleman>();
}

} // namespace seg
