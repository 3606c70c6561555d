#include "actors/mqtt_bridge.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/io/acquisition.hpp"
#include "actors/io/io_error.hpp"
#include "actors/io/mqtt_protocol.hpp"
#include "actors/io/output_layout.hpp"
#include "actors/io/queue_store.hpp"
#include "actors/status_format.hpp"

namespace fs = std::filesystem;

namespace seg {

namespace {

namespace proto = io::mqtt;
using self_ptr = mqtt_bridge_actor::stateful_pointer<mqtt_bridge_state>;
using ojson = nlohmann::ordered_json;

void publish(self_ptr self, const std::string& topic, const std::string& payload) {
  self->state.cfg.publish(topic, payload);
}

void publish_status(self_ptr self, const std::string& text) {
  spdlog::info("mqtt_status status=\"{}\"", text);
  publish(self, proto::status_topic, proto::status_json(text));
}

// The error's text (the queue's refusals), else its rendering.
std::string error_text(self_ptr self, const caf::error& err) {
  return seg::error_text(self->system(), err);
}

// True if the acquisition in `dir` has its done.txt; a folder that is not
// an acquisition is left to its job to report.
bool done_already(const fs::path& dir) {
  try {
    return io::has_done_marker(io::output_layout(io::open_acquisition(dir)));
  } catch (const std::exception&) {
    return false;
  }
}

mqtt_request_track* request_of(self_ptr self, std::uint64_t job) {
  for (auto& r : self->state.requests)
    if (std::find(r.jobs.begin(), r.jobs.end(), job) != r.jobs.end())
      return &r;
  return nullptr;
}

// Reports finished requests, oldest first: a request's final status only
// once every request before it has reported, so the statuses of two
// requests never interleave.
void advance(self_ptr self) {
  auto& reqs = self->state.requests;
  while (!reqs.empty()) {
    auto& r = reqs.front();
    if (r.adding || r.finished.size() < r.jobs.size())
      return;
    if (r.refused) {
      publish_status(self, proto::exception_text(r.failure));
    } else {
      if (!r.started)
        publish_status(self, "Started");
      if (r.interrupted)
        publish_status(self, "Interrupted");
      else if (!r.failure.empty())
        publish_status(self, proto::exception_text(r.failure));
      else
        publish_status(self, "Done");
    }
    reqs.pop_front();
  }
}

// Stops every job of `r` that has not ended (pending ones end at once).
void stop_request(self_ptr self, mqtt_request_track& r) {
  r.interrupted = true;
  for (auto id : r.jobs) {
    if (r.finished.count(id) > 0)
      continue;
    self->request(self->state.queue, self->state.cfg.timeout, atom::stop::value, id)
      .then([](job_record&) {},
            [self, id](caf::error& err) {
              spdlog::warn("mqtt_stop_failed job={} error=\"{}\"", id, error_text(self, err));
            });
  }
}

// The jobs of a segment request: every acquisition below its folders (or
// img/ when it names none) without done.txt unless forced.
std::vector<job_spec> specs_of(self_ptr self, const std::vector<fs::path>& paths,
                               const proto::segment_settings& s, bool follow) {
  std::vector<fs::path> inputs;
  if (paths.empty())
    inputs.push_back(proto::checked_request_path(self->state.cfg.data_root / "img"));
  for (auto& p : paths)
    inputs.push_back(proto::checked_request_path(p));
  auto found = io::find_acquisition_dirs(inputs, s.recursive);
  if (!found.problems.empty()) {
    std::string all;
    for (auto& p : found.problems)
      all += (all.empty() ? "" : "; ") + p;
    throw proto::protocol_error(all);
  }
  auto overrides = self->state.cfg.overrides;
  for (auto& o : proto::job_overrides(s, follow))
    overrides.push_back(o);
  std::vector<job_spec> specs;
  for (auto& dir : found.dirs) {
    if (!s.force && done_already(dir)) {
      spdlog::info("mqtt_skipped path={} reason=done.txt", dir.string());
      continue;
    }
    job_spec spec;
    spec.path = dir.string();
    spec.force = s.force;
    spec.overrides = overrides;
    specs.push_back(std::move(spec));
  }
  return specs;
}

// Queues a request's jobs; `on_done` gets their ids or the refusal text.
template <class F>
void add_request(self_ptr self, std::vector<job_spec> specs, F on_done) {
  auto& reqs = self->state.requests;
  reqs.emplace_back();
  if (specs.empty()) {
    on_done(std::vector<std::uint64_t>{}, std::string{});
    advance(self);
    return;
  }
  // The queue answers adds in order, so a reply belongs to the oldest
  // request still adding.
  reqs.back().adding = true;
  auto count = specs.size();
  self->request(self->state.queue, self->state.cfg.timeout, atom::add::value, std::move(specs))
    .then(
      [self, count, on_done](std::vector<std::uint64_t>& ids) mutable {
        for (auto& req : self->state.requests)
          if (req.adding) {
            req.adding = false;
            req.jobs = ids;
            spdlog::info("mqtt_request_queued jobs={}", count);
            if (req.interrupted)
              stop_request(self, req);
            break;
          }
        on_done(ids, std::string{});
        advance(self);
      },
      [self, on_done](caf::error& err) mutable {
        auto why = error_text(self, err);
        for (auto& req : self->state.requests)
          if (req.adding) {
            req.adding = false;
            req.refused = true;
            req.failure = why;
            break;
          }
        on_done(std::vector<std::uint64_t>{}, why);
        advance(self);
      });
}

void on_segment(self_ptr self, const proto::request& req) {
  std::vector<job_spec> specs;
  try {
    specs = specs_of(self, req.paths, req.settings, req.follow);
  } catch (const std::exception& e) {
    spdlog::warn("mqtt_request_refused error=\"{}\"", e.what());
    publish_status(self, proto::exception_text(e.what()));
    return;
  }
  add_request(self, std::move(specs), [](const std::vector<std::uint64_t>&,
                                         const std::string&) {});
}

void on_stop(self_ptr self) {
  for (auto& r : self->state.requests) {
    if (r.interrupted || (!r.adding && r.finished.size() >= r.jobs.size()))
      continue;
    spdlog::info("mqtt_stop jobs={}", r.jobs.size());
    stop_request(self, r);
    return;
  }
  // Nothing runs: the reference answers a stop with Interrupted all the same
  // (the dashboard's scripts wait for it).
  publish_status(self, "Interrupted");
}

void on_reference_message(self_ptr self, const std::string& topic,
                          const std::string& payload) {
  proto::request req;
  try {
    req = proto::parse_request(payload);
  } catch (const proto::protocol_error& e) {
    spdlog::warn("mqtt_request_invalid topic={} error=\"{}\"", topic, e.what());
    publish_status(self, proto::exception_text(std::string(e.what()) + " on " + topic));
    return;
  }
  switch (req.kind) {
    case proto::action::segment:
      on_segment(self, req);
      break;
    case proto::action::stop:
      on_stop(self);
      break;
    case proto::action::update_config:
      // The reference cannot update its configuration while segmenting and
      // always answers Busy; segflow's settings come from its config file.
      spdlog::info("mqtt_update_config ignored=true");
      publish_status(self, "Busy");
      break;
    case proto::action::unknown:
      spdlog::warn("mqtt_request_unknown action=\"{}\"", req.action_text);
      break;
    case proto::action::none:
      break;
  }
}

// -- following the imager ---------------------------------------------------

void seal(self_ptr self, std::uint64_t job) {
  self->request(self->state.queue, self->state.cfg.timeout, atom::seal::value, job)
    .then([job](bool ok) { spdlog::info("mqtt_follow_sealed job={} ok={}", job, ok); },
          [self, job](caf::error& err) {
            spdlog::warn("mqtt_seal_failed job={} error=\"{}\"", job, error_text(self, err));
          });
}

// The imager's first frame names its folder: follow it as one request.
void follow_folder(self_ptr self, const std::string& folder) {
  auto& st = self->state;
  if (st.followed.count(folder) > 0)
    return;
  std::vector<job_spec> specs;
  try {
    specs = specs_of(self, {fs::path(folder)}, proto::segment_settings{}, true);
  } catch (const std::exception& e) {
    spdlog::warn("mqtt_follow_refused path={} error=\"{}\"", folder, e.what());
    return;
  }
  if (specs.empty())
    return;
  st.followed[folder] = 0;
  spdlog::info("mqtt_follow path={}", folder);
  add_request(self, std::move(specs),
              [self, folder](const std::vector<std::uint64_t>& ids, const std::string& why) {
                auto& st = self->state;
                if (ids.empty()) {
                  spdlog::warn("mqtt_follow_refused path={} error=\"{}\"", folder, why);
                  st.followed.erase(folder);
                  return;
                }
                st.followed[folder] = ids.front();
                if (st.seal_on_add.erase(folder) > 0) {
                  st.followed.erase(folder);
                  seal(self, ids.front());
                }
              });
}

void on_imager(self_ptr self, const std::string& payload) {
  auto& st = self->state;
  auto msg = proto::parse_imager_status(payload);
  if (!msg || !st.cfg.follow_imager)
    return;
  if (msg->status == "Started") {
    st.imager_started = true;
    return;
  }
  if (msg->status == "Done" || msg->status == "Interrupted") {
    st.imager_started = false;
    // Done names the acquisition; Interrupted does not: every followed one ends.
    auto folder = fs::path(msg->path).lexically_normal().string();
    for (auto it = st.followed.begin(); it != st.followed.end();) {
      if (!msg->path.empty() && it->first != folder) {
        ++it;
        continue;
      }
      if (it->second == 0) {
        st.seal_on_add.insert(it->first);
        ++it;
      } else {
        seal(self, it->second);
        it = st.followed.erase(it);
      }
    }
    return;
  }
  if (st.imager_started && !msg->path.empty()) {
    st.imager_started = false;
    follow_folder(self, fs::path(msg->path).lexically_normal().parent_path().string());
  }
}

// -- segflow's own commands ---------------------------------------------------

template <class T>
auto reply_then(self_ptr self, proto::command c) {
  return [self, c](T& value) {
    ojson result;
    if constexpr (std::is_same_v<T, queue_listing>)
      result = io::listing_json(value);
    else
      result = io::job_json(value);
    publish(self, proto::segflow_reply_topic, proto::command_reply(c, result));
  };
}

auto reply_error(self_ptr self, proto::command c) {
  return [self, c](caf::error& err) {
    // The code lets a dashboard tell "no such job" from "not now" without
    // reading the text.
    auto code = code_of(err);
    publish(self, proto::segflow_reply_topic,
            proto::command_error(c, error_text(self, err), code ? to_string(*code) : ""));
  };
}

void on_command(self_ptr self, const std::string& payload) {
  proto::command c;
  try {
    c = proto::parse_command(payload);
  } catch (const proto::protocol_error& e) {
    c.name = "?";
    publish(self, proto::segflow_reply_topic,
            proto::command_error(c, e.what(), to_string(ec::bad_request)));
    return;
  }
  auto& q = self->state.queue;
  auto t = self->state.cfg.timeout;
  if (c.name == "add") {
    std::vector<job_spec> specs;
    try {
      specs = specs_of(self, c.paths, c.settings, c.follow);
    } catch (const std::exception& e) {
      publish(self, proto::segflow_reply_topic, proto::command_error(c, e.what()));
      return;
    }
    add_request(self, std::move(specs),
                [self, c](const std::vector<std::uint64_t>& ids, const std::string& why) {
                  if (!why.empty()) {
                    publish(self, proto::segflow_reply_topic, proto::command_error(c, why));
                    return;
                  }
                  publish(self, proto::segflow_reply_topic,
                          proto::command_reply(c, ojson{{"ids", ids}}));
                });
  } else if (c.name == "list") {
    self->request(q, t, atom::list::value)
      .then(reply_then<queue_listing>(self, c), reply_error(self, c));
  } else if (c.name == "status") {
    self->request(q, t, atom::status::value, c.id)
      .then(reply_then<job_record>(self, c), reply_error(self, c));
  } else if (c.name == "move") {
    self->request(q, t, atom::move::value, c.id, c.to)
      .then(reply_then<queue_listing>(self, c), reply_error(self, c));
  } else if (c.name == "remove") {
    self->request(q, t, atom::remove::value, c.id)
      .then(
        [self, c](job_record& j) {
          // A removed job never ends: its request no longer waits for it.
          if (auto* r = request_of(self, j.spec.id))
            r->jobs.erase(std::remove(r->jobs.begin(), r->jobs.end(), j.spec.id),
                          r->jobs.end());
          reply_then<job_record>(self, c)(j);
          advance(self);
        },
        reply_error(self, c));
  } else if (c.name == "stop") {
    self->request(q, std::max(t, std::chrono::seconds(60)), atom::stop::value, c.id)
      .then(reply_then<job_record>(self, c), reply_error(self, c));
  } else if (c.name == "stop-queue") {
    self->request(q, t, atom::stop_queue::value)
      .then(reply_then<queue_listing>(self, c), reply_error(self, c));
  } else if (c.name == "resume-queue") {
    self->request(q, t, atom::resume::value)
      .then(reply_then<queue_listing>(self, c), reply_error(self, c));
  } else if (c.name == "stop-all") {
    self->request(q, std::max(t, std::chrono::seconds(60)), atom::stop_all::value)
      .then(reply_then<queue_listing>(self, c), reply_error(self, c));
  }
}

// -- status events --------------------------------------------------------

void publish_objects(self_ptr self, const job_event& ev) {
  auto file = io::mqtt::frame_record_path(ev.path, ev.frame_name);
  if (!file)
    return;
  try {
    auto record = io::read_frame_record(*file);
    auto& label = self->state.next_label[ev.job_id];
    for (auto& [topic, payload] : proto::object_messages(record, label))
      publish(self, topic, payload);
    label += record.objects.size();
  } catch (const std::exception& e) {
    spdlog::warn("mqtt_objects_unavailable frame={} error=\"{}\"", ev.frame_name, e.what());
  }
}

void on_event(self_ptr self, const job_event& ev) {
  publish(self, proto::segflow_event_topic, format_json_line(ev));
  auto* r = request_of(self, ev.job_id);
  if (r == nullptr)
    return; // a job added by ctl: the reference statuses are for MQTT requests
  auto kind = event_kind(ev.kind);
  if (kind == event_kind::job_finished) {
    r->finished.insert(ev.job_id);
    self->state.next_label.erase(ev.job_id);
    auto state = job_state(ev.state);
    if (state == job_state::interrupted) {
      if (!r->interrupted)
        stop_request(self, *r);
    } else if (state == job_state::failed) {
      r->failure = ev.message.empty() ? acquisition_label(ev.path) + ": failed" : ev.message;
    } else if (state == job_state::partial || ev.frames_done < ev.frames_total) {
      // The reference has no partial outcome (a bad frame stops it): the
      // request ends with its exception status, naming how many failed.
      r->failure = acquisition_label(ev.path) + ": "
                   + std::to_string(ev.frames_total - ev.frames_done) + " of "
                   + std::to_string(ev.frames_total) + " frames failed";
    }
    advance(self);
    return;
  }
  if (r->interrupted)
    return;
  if (kind == event_kind::job_started) {
    if (!r->started)
      publish_status(self, "Started");
    r->started = true;
    self->state.next_label[ev.job_id] = 0;
  }
  auto text = format_reference_status(ev);
  if (!text.empty())
    publish(self, proto::status_topic, text);
  if (kind == event_kind::frame_done && ev.objects > 0 && self->state.cfg.object_messages)
    publish_objects(self, ev);
}

} // namespace

mqtt_bridge_actor::behavior_type
mqtt_bridge(mqtt_bridge_actor::stateful_pointer<mqtt_bridge_state> self,
            mqtt_bridge_config cfg, queue_control_actor queue) {
  self->state.cfg = std::move(cfg);
  self->state.queue = queue;
  status_sink_actor me = caf::actor_cast<status_sink_actor>(self);
  self->request(queue, self->state.cfg.timeout, atom::subscribe::value, me)
    .then([](bool) {},
          [self](caf::error& err) {
            spdlog::error("mqtt_subscribe_failed error=\"{}\"", error_text(self, err));
            self->quit(err);
          });
  self->monitor(queue);
  self->set_down_handler([self](caf::down_msg& msg) {
    spdlog::error("mqtt_queue_lost reason=\"{}\"", self->system().render(msg.reason));
    self->quit(msg.reason);
  });
  return {
    [self](const job_event& ev) { on_event(self, ev); },
    [self](atom::received, const std::string& topic, const std::string& payload) {
      static const std::string segflow_below = std::string(proto::segflow_topic) + "/";
      if (topic == proto::segflow_topic || topic.rfind(segflow_below, 0) == 0)
        on_command(self, payload);
      else if (topic.rfind("segmenter/", 0) == 0)
        on_reference_message(self, topic, payload);
      else if (topic == proto::imager_topic)
        on_imager(self, payload);
    },
    [self](atom::online) {
      if (self->state.announced)
        return;
      self->state.announced = true;
      publish_status(self, "Ready");
    },
    [self](atom::shutdown) {
      publish_status(self, "Dead");
      return true;
    },
  };
}

caf::expected<mqtt_bridge_actor> spawn_mqtt_bridge(caf::actor_system& sys,
                                                   mqtt_bridge_config cfg,
                                                   queue_control_actor queue) {
  if (!cfg.publish)
    return caf::make_error(caf::sec::invalid_argument, "mqtt bridge: no publish function");
  if (!queue)
    return caf::make_error(caf::sec::invalid_argument, "mqtt bridge: no queue");
  return sys.spawn(mqtt_bridge, std::move(cfg), std::move(queue));
}

} // namespace seg
