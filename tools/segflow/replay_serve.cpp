// Replay of a serve trace. The external inputs of a serve run are the
// control commands its queue got from clients (`segflow ctl`: add, move,
// remove, stop, ...; joining worker processes; the shutdown at SIGINT) and
// the worker processes it lost. The replay builds serve's actor set in this
// process (status hub, progress sink, lock manager, a fresh queue with a
// state file in a scratch directory) and a driver actor re-issues every
// command, in recorded order, at its recorded point of progress: after as
// many frame events (done or failed) and job ends as the status hub had
// handled before the command was recorded. So a `move` recorded while job 1
// ran (k frames in) is re-issued k frames into job 1, before job 2 starts.
// The driver sees progress as a subscriber of the hub, a few messages after
// the hub itself: a command recorded right at a job boundary may land on
// the other side of it, so golden recordings issue commands away from one.
//
// Deviations, as for segment traces: the real scheduler, not CAF's test
// coordinator, and messages compared as multisets per receiver. Worker
// processes are stood in for by in-process segment workers: each recorded
// join gets one worker (what `serve --worker-processes` starts) behind a
// stand-in actor that pulls work from the reader for it. A recorded loss
// (the reader's note: the run, kind, index and tile of the item the lost
// worker held) is re-driven by the stand-in that is handed that item: it
// dies holding it, with its worker, and the reader requeues the item as it
// did for the killed process. Clients' `watch` subscriptions are not re-driven
// (status subscriptions are not compared).
#include <cstdio>
#include <future>
#include <map>
#include <iostream>
#include <limits>
#include <memory>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "tools/segflow/trace_compare.hpp"
#include "actors/lock_manager.hpp"
#include "actors/queue.hpp"
#include "actors/segment_worker.hpp"
#include "actors/status_hub.hpp"
#include "actors/status_sinks.hpp"
#include "actors/trace.hpp"
#include "actors/type_ids.hpp"
#include "tools/segflow/args.hpp"
#include "tools/segflow/common.hpp"
#include "tools/segflow/replay.hpp"

namespace fs = std::filesystem;

namespace seg::cli {

namespace {

/// One control command as recorded, decoded.
struct serve_input {
  std::string type;              ///< the record's type list
  long point = 0;                ///< counted hub events before it
  std::vector<job_spec> specs;   ///< add (paths mapped to --root)
  std::uint64_t id = 0;          ///< move, remove, stop, status
  std::uint32_t position = 0;    ///< move
};

/// An item a worker held when it was lost.
struct lost_item {
  std::uint64_t run = 0;
  std::int64_t kind = 0;
  std::int64_t index = 0;
  std::int64_t row_begin = 0;
  std::int64_t tile = -1; ///< a tile of a tiled frame (not in older traces' notes)
};

/// Losses still to re-drive, shared by the stand-ins (which run on several
/// threads).
struct loss_book {
  std::mutex mtx;
  std::vector<lost_item> items;

  // True (once) if `w` is an item a lost worker held.
  bool take(const work_item& w) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto it = items.begin(); it != items.end(); ++it)
      if (it->run == w.job_id && it->kind == std::int64_t(w.kind) && it->index == w.index
          && it->row_begin == w.row_begin && it->tile == w.tile) {
        items.erase(it);
        return true;
      }
    return false;
  }
};

/// What the recording says.
struct serve_recording {
  std::vector<serve_input> inputs;
  std::vector<lost_item> losses;
  long events = 0; ///< counted hub events in the whole trace
  std::map<std::string, std::string> options; ///< header inputs, key=value
};

// The hub events that mark progress: frames done or failed, jobs ended.
// (Job starts and flat fields may cross a job boundary with the next job
// prepared early, so they are not counted.)
bool counts(const job_event& ev) {
  auto kind = event_kind(ev.kind);
  return kind == event_kind::frame_done || kind == event_kind::frame_failed
         || kind == event_kind::job_finished;
}

serve_input decode_input(const replay_setup& setup, const io::trace_record& r, long point) {
  serve_input in;
  in.type = r.type;
  in.point = point;
  const auto& t = r.type;
  if (t.compare(0, 9, "atom:join") == 0) {
    in.type = "atom:join"; // its argument (if any) is the joining process's own
  } else if (t == "atom:add,seg::job_specs") {
    in.specs = payload_element<std::vector<job_spec>>(setup.file, r, 1, 2);
  } else if (t == "atom:add,seg::job_spec") {
    in.specs = {payload_element<job_spec>(setup.file, r, 1, 2)};
  } else if (t == "atom:move,u64,u32") {
    in.id = payload_element<std::uint64_t>(setup.file, r, 1, 3);
    in.position = payload_element<std::uint32_t>(setup.file, r, 2, 3);
  } else if (t == "atom:remove,u64" || t == "atom:stop,u64" || t == "atom:status,u64") {
    in.id = payload_element<std::uint64_t>(setup.file, r, 1, 2);
  } else if (t != "atom:stopqueue" && t != "atom:resume" && t != "atom:stopall"
             && t != "atom:list" && t != "atom:wait" && t != "atom:shutdown"
             && t != "atom:nodes") {
    throw io::trace_error(setup.file + ": record " + std::to_string(r.seq)
                          + ": the queue got " + t + " from outside, which replay cannot "
                          "re-drive");
  }
  for (auto& spec : in.specs)
    spec.path = remap(spec.path, setup);
  return in;
}

serve_recording read_recording(const replay_setup& setup) {
  constexpr long max_joins = 256;
  long joins = 0;
  serve_recording out;
  for (auto& kv : setup.header.inputs)
    if (auto eq = kv.find('='); eq != std::string::npos)
      out.options[kv.substr(0, eq)] = kv.substr(eq + 1);
  io::trace_reader reader(setup.file);
  while (auto r = reader.next()) {
    auto receiver = role_of(r->receiver);
    if (receiver == "status-hub" && r->type == "seg::job_event") {
      if (counts(payload_element<job_event>(setup.file, *r, 0, 1)))
        ++out.events;
    } else if (receiver == "reader" && r->type == "note:worker_lost") {
      auto v = payload_element<std::vector<std::int64_t>>(setup.file, *r, 0, 1);
      // Traces made before tiled frames have no tile.
      if (v.size() != 4 && v.size() != 5)
        throw io::trace_error(setup.file + ": record " + std::to_string(r->seq)
                              + ": a worker loss note has 4 or 5 values");
      out.losses.push_back({std::uint64_t(v[0]), v[1], v[2], v[3], v.size() == 5 ? v[4] : -1});
    } else if (receiver == "queue" && sender_role(r->sender, receiver) == "external"
               && r->type.compare(0, 14, "atom:subscribe") != 0) {
      out.inputs.push_back(decode_input(setup, *r, out.events));
      // Each join is a worker thread in the replay: bounded.
      if (out.inputs.back().type == "atom:join" && ++joins > max_joins)
        throw io::trace_error(setup.file + ": more than " + std::to_string(max_joins)
                              + " worker processes joined; replay stands in for at most "
                                "that many");
    }
  }
  return out;
}

// A header input `key` (serve's option ranges bound it: a trace is never
// trusted to size the actor set).
long option(const serve_recording& rec, const std::string& key, long fallback, long max) {
  auto it = rec.options.find(key);
  if (it == rec.options.end())
    return fallback;
  std::size_t used = 0;
  long v = -1;
  try {
    v = std::stol(it->second, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != it->second.size() || v < 0 || v > max)
    throw io::trace_error("header input " + key + "=" + it->second + " is not a number in 0.."
                          + std::to_string(max));
  return v;
}

// -- the stand-in of a worker process ----------------------------------------

struct stand_in_state {
  static inline const char* name = "worker-stand-in";
};

// Stands between one segment worker and the reader: the worker's pulls go
// through it (the reader monitors it as the worker), everything else is
// delegated unchanged (senders kept). Dies, with its worker, when it is
// handed an item a lost worker held.
reader_actor::behavior_type stand_in(reader_actor::stateful_pointer<stand_in_state> self,
                                     reader_actor reader, exporter_actor exporter,
                                     std::shared_ptr<loss_book> losses) {
  auto spawned = spawn_segment_worker<caf::detached + caf::linked>(
    *self, caf::actor_cast<reader_actor>(self), exporter);
  if (!spawned) {
    self->quit(spawned.error());
    return reader_actor::behavior_type::make_empty_behavior();
  }
  auto worker = *spawned;
  return {
    [=](atom::open, const job_spec& spec) {
      return self->delegate(reader, atom::open::value, spec);
    },
    [=](atom::run, std::uint64_t id, const frame_indices& skip, const std::string& op_id) {
      self->delegate(reader, atom::run::value, id, skip, op_id);
    },
    [=](atom::work) -> caf::result<work_item> {
      auto rp = self->make_response_promise<work_item>();
      self->request(reader, caf::infinite, atom::work::value)
        .then(
          [=](work_item& item) mutable {
            if (losses->take(item)) {
              spdlog::warn("replay_worker_lost job={} index={} tile={}", item.job_id,
                           item.index, item.tile);
              // The worker dies with it; a normal exit spares the driver
              // and the other stand-ins, which are linked to it.
              self->send_exit(worker, caf::exit_reason::kill);
              self->quit();
              return;
            }
            rp.deliver(std::move(item));
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](const frame_result& r) { self->delegate(reader, r); },
    [=](atom::stop, std::uint64_t id) { self->delegate(reader, atom::stop::value, id); },
    [=](atom::reflat, std::uint64_t id, std::uint32_t generation, std::uint32_t from) {
      self->delegate(reader, atom::reflat::value, id, generation, from);
    },
    [=](atom::join, caf::actor& supervisor, bool shares_memory) {
      self->delegate(reader, atom::join::value, std::move(supervisor), shares_memory);
    },
    [=](atom::paths, std::uint64_t id, const std::string& file, const std::string& problem) {
      self->delegate(reader, atom::paths::value, id, file, problem);
    },
    [=](atom::seal, std::uint64_t id) { self->delegate(reader, atom::seal::value, id); },
    [=](atom::poll) {
      // nop: the reader's own timer, never sent by a worker
    },
    [=](atom::prefetch) {
      // nop: the reader's own timer, never sent by a worker
    },
    [=](atom::tick) {
      // nop: the reader's own timer, never sent by a worker
    },
    [=](atom::stitched, std::uint64_t id, std::uint32_t generation, std::uint32_t index) {
      self->delegate(reader, atom::stitched::value, id, generation, index);
    },
  };
}

// -- the driver --------------------------------------------------------------

struct driver_state {
  static inline const char* name = "replay-driver";
  queue_actor queue;
  std::shared_ptr<loss_book> losses;
  std::vector<serve_input> inputs;
  std::size_t next = 0;
  long progress = 0;
  long total = 0;
  bool shutdown_expected = false;
  bool shutdown_replied = false;
  bool finished = false;
  std::shared_ptr<std::promise<void>> done;
};

using driver_ptr = status_sink_actor::stateful_pointer<driver_state>;

void check_done(driver_ptr self) {
  auto& st = self->state;
  if (st.finished || st.next < st.inputs.size() || st.progress < st.total
      || (st.shutdown_expected && !st.shutdown_replied))
    return;
  st.finished = true;
  st.done->set_value();
}

void ignore(caf::error&) {
  // nop: a refusal was refused in the recording too
}

// Re-issues one recorded command; replies are not compared, only what the
// queue does. A join gets a stand-in worker, linked to the driver.
void issue(driver_ptr self, const serve_input& in) {
  auto& st = self->state;
  auto& q = st.queue;
  const auto& t = in.type;
  auto forever = caf::infinite;
  if (t == "atom:add,seg::job_specs")
    self->request(q, forever, atom::add::value, in.specs)
      .then([](std::vector<std::uint64_t>&) {}, ignore);
  else if (t == "atom:add,seg::job_spec")
    self->request(q, forever, atom::add::value, in.specs.front())
      .then([](std::uint64_t) {}, ignore);
  else if (t == "atom:move,u64,u32")
    self->request(q, forever, atom::move::value, in.id, in.position)
      .then([](queue_listing&) {}, ignore);
  else if (t == "atom:remove,u64")
    self->request(q, forever, atom::remove::value, in.id).then([](job_record&) {}, ignore);
  else if (t == "atom:stop,u64")
    self->request(q, forever, atom::stop::value, in.id).then([](job_record&) {}, ignore);
  else if (t == "atom:status,u64")
    self->request(q, forever, atom::status::value, in.id).then([](job_record&) {}, ignore);
  else if (t == "atom:stopqueue")
    self->request(q, forever, atom::stop_queue::value).then([](queue_listing&) {}, ignore);
  else if (t == "atom:resume")
    self->request(q, forever, atom::resume::value).then([](queue_listing&) {}, ignore);
  else if (t == "atom:stopall")
    self->request(q, forever, atom::stop_all::value).then([](queue_listing&) {}, ignore);
  else if (t == "atom:list")
    self->request(q, forever, atom::list::value).then([](queue_listing&) {}, ignore);
  else if (t == "atom:nodes") // `ctl status` asks how many workers are connected
    self->request(q, forever, atom::nodes::value).then([](node_listing&) {}, ignore);
  else if (t == "atom:wait")
    self->request(q, forever, atom::wait::value)
      .then([](std::vector<job_summary>&) {}, ignore);
  else if (t == "atom:shutdown")
    self->request(q, forever, atom::shutdown::value)
      .then(
        [=](queue_listing&) {
          self->state.shutdown_replied = true;
          check_done(self);
        },
        [=](caf::error&) {
          self->state.shutdown_replied = true;
          check_done(self);
        });
  else if (t == "atom:join")
    self->request(q, forever, atom::join::value)
      .then(
        [=](reader_actor& r, exporter_actor& e) {
          self->spawn<caf::linked>(stand_in, r, e, self->state.losses);
        },
        ignore);
}

// Issues every command whose recorded point has been reached.
void catch_up(driver_ptr self) {
  auto& st = self->state;
  while (st.next < st.inputs.size() && st.inputs[st.next].point <= st.progress)
    issue(self, st.inputs[st.next++]);
  check_done(self);
}

status_sink_actor::behavior_type driver(driver_ptr self, queue_actor q,
                                        status_hub_actor hub, serve_recording rec,
                                        std::shared_ptr<std::promise<void>> done) {
  auto& st = self->state;
  st.queue = std::move(q);
  st.total = rec.events;
  st.losses = std::make_shared<loss_book>();
  st.losses->items = rec.losses;
  for (auto& in : rec.inputs)
    st.shutdown_expected = st.shutdown_expected || in.type == "atom:shutdown";
  st.inputs = std::move(rec.inputs);
  st.done = std::move(done);
  // Subscribed before the first command: no event can precede it.
  self->send(hub, atom::subscribe::value, caf::actor_cast<status_sink_actor>(self));
  catch_up(self);
  return {
    [=](const job_event& ev) {
      if (counts(ev))
        ++self->state.progress;
      catch_up(self);
    },
  };
}

} // namespace

int replay_serve(const replay_setup& setup) {
  serve_recording rec;
  long in_process = 0;
  long processes = 0;
  bool prepare_next = true;
  try {
    rec = read_recording(setup);
    in_process = option(rec, "workers", 1, 256);
    processes = option(rec, "worker_processes", 0, 64);
    prepare_next = option(rec, "prepare_next", 1, 1) != 0;
    if (option(rec, "restored_jobs", 0, std::numeric_limits<int>::max()) > 0)
      throw io::trace_error(setup.file + ": the serve restored jobs from its state "
                            "directory; replay starts from an empty queue and cannot "
                            "re-create them");
  } catch (const std::exception& e) {
    std::cout << "replay: cannot replay: " << e.what() << "\n";
    return exit_usage;
  }
  std::cout << "replay: serve trace: " << rec.inputs.size() << " commands, "
            << rec.losses.size() << " worker losses, " << in_process
            << " in-process workers, " << processes << " worker processes stood in for\n";

  caf::actor_system_config cfg;
  configure_actor_system(cfg, false);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  auto h = new_trace_header(setup.settings, "serve", false);
  h.inputs = setup.header.inputs;
  h.data_root = remap(setup.recorded_root, setup);
  try {
    trace::start(setup.own_trace, h);
  } catch (const std::exception& e) {
    std::cout << "replay: cannot record: " << e.what() << "\n";
    return exit_usage;
  }
  // The same actors as serve, progress sink included (its messages are in
  // the recording); what it prints is not.
  std::FILE* quiet = std::fopen("/dev/null", "w");
  auto hub = spawn_status_hub(sys);
  progress_sink_config pcfg;
  pcfg.out = quiet != nullptr ? quiet : stderr;
  pcfg.tty = false;
  pcfg.min_interval = std::chrono::seconds(10);
  auto progress = spawn_progress_sink(sys, hub, pcfg);
  auto locks = spawn_lock_manager(sys, lock_manager_config{});
  if (!locks) {
    std::cout << "replay: lock manager: " << sys.render(locks.error()) << "\n";
    return exit_usage;
  }
  auto qcfg = make_queue_config(setup.settings, setup.sources,
                                std::uint32_t(in_process + processes),
                                std::uint32_t(in_process));
  qcfg.state_file = (setup.dir / "queue.json").string();
  qcfg.prepare_next = prepare_next;
  qcfg.recorded_ops = setup.recorded_ops;
  auto spawned = spawn_queue(sys, qcfg, hub, *locks);
  if (!spawned) {
    std::cout << "replay: queue: " << sys.render(spawned.error()) << "\n";
    return exit_usage;
  }
  auto q = *spawned;

  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  auto d = sys.spawn(driver, q, hub, std::move(rec), done);
  int rc = exit_ok;
  // A bound, not a measurement: a replay that has not caught up by then is
  // stuck (a command that never got its point, a job that never ends).
  if (finished.wait_for(std::chrono::minutes(10)) != std::future_status::ready) {
    std::cout << "replay: stalled: the recorded progress was not reached\n";
    rc = exit_failed;
  }
  // Worker stand-ins first (they are linked to the driver), as serve stops
  // its worker processes first; then dataflow order.
  for (auto a : {caf::actor_cast<caf::actor>(d), caf::actor_cast<caf::actor>(q),
                 caf::actor_cast<caf::actor>(*locks), caf::actor_cast<caf::actor>(hub),
                 caf::actor_cast<caf::actor>(progress)}) {
    self->send_exit(a, caf::exit_reason::user_shutdown);
    self->wait_for(a);
  }
  trace::stop();
  if (quiet != nullptr)
    std::fclose(quiet);
  return rc;
}

} // namespace seg::cli
