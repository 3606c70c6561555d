#include "actors/status_sinks.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <unistd.h>

namespace seg {

namespace {

void write_flush(std::FILE* out, const std::string& text) {
  // One fwrite per line: stdio locks per call, so lines of several sinks
  // sharing a stream do not interleave.
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

// Clears the terminal line the cursor is on.
constexpr const char* clear_line = "\r\x1b[K";

void print_event_line(progress_sink_state& st, const std::string& line,
                      bool redraw) {
  if (line.empty())
    return;
  std::string text;
  if (st.tty && st.line_open)
    text = clear_line;
  text += line + "\n";
  st.line_open = false;
  if (st.tty && redraw && !st.last_progress.empty()) {
    text += "\r" + st.last_progress + "\x1b[K";
    st.line_open = true;
  }
  write_flush(st.cfg.out, text);
}

void print_progress(progress_sink_state& st, const job_event& ev) {
  auto line = format_progress_line(ev, st.jobs[ev.job_id]);
  if (st.tty) {
    st.last_progress = line;
    st.line_open = true;
    write_flush(st.cfg.out, "\r" + line + "\x1b[K");
    return;
  }
  auto now = std::chrono::steady_clock::now();
  auto last = st.last_print.find(ev.job_id);
  bool due = last == st.last_print.end() || now - last->second >= st.cfg.min_interval
             || ev.frames_done >= ev.frames_total;
  if (!due)
    return;
  st.last_print[ev.job_id] = now;
  write_flush(st.cfg.out, line + "\n");
}

status_sink_actor subscribed(const status_hub_actor& hub, status_sink_actor sink) {
  if (hub)
    caf::anon_send(hub, atom::subscribe::value, sink);
  return sink;
}

} // namespace

status_sink_actor::behavior_type
progress_sink(status_sink_actor::stateful_pointer<progress_sink_state> self,
              progress_sink_config cfg) {
  auto& st = self->state;
  st.tty = cfg.tty ? *cfg.tty : ::isatty(::fileno(cfg.out)) == 1;
  st.cfg = cfg;
  return {
    [self](const job_event& ev) {
      auto& st = self->state;
      switch (ev.kind) {
        case event_kind::job_started:
          st.jobs[ev.job_id] = progress_counts{ev.frames_done, ev.objects};
          print_event_line(st, format_event_line(ev, st.jobs[ev.job_id]), true);
          break;
        case event_kind::frame_done:
          st.jobs[ev.job_id].objects += ev.objects;
          print_progress(st, ev);
          break;
        case event_kind::flat_ready:
        case event_kind::frame_failed:
          print_event_line(st, format_event_line(ev, st.jobs[ev.job_id]), true);
          break;
        case event_kind::job_finished:
          st.last_progress.clear();
          print_event_line(st, format_event_line(ev, st.jobs[ev.job_id]), false);
          st.jobs.erase(ev.job_id);
          st.last_print.erase(ev.job_id);
          break;
      }
    },
  };
}

status_sink_actor spawn_progress_sink(caf::actor_system& sys,
                                      const status_hub_actor& hub,
                                      const progress_sink_config& cfg) {
  return subscribed(hub, sys.spawn(progress_sink, cfg));
}

status_sink_actor::behavior_type
json_sink(status_sink_actor::stateful_pointer<json_sink_state> self, std::FILE* out) {
  self->state.out = out;
  return {
    [self](const job_event& ev) {
      write_flush(self->state.out, format_json_line(ev) + "\n");
    },
  };
}

status_sink_actor spawn_json_sink(caf::actor_system& sys, const status_hub_actor& hub,
                                  std::FILE* out) {
  return subscribed(hub, sys.spawn(json_sink, out));
}

status_sink_actor::behavior_type
reference_sink(status_sink_actor::stateful_pointer<reference_sink_state> self,
               std::FILE* out) {
  self->state.out = out;
  return {
    [self](const job_event& ev) {
      auto line = format_reference_status(ev);
      if (!line.empty())
        write_flush(self->state.out, line + "\n");
    },
  };
}

status_sink_actor spawn_reference_sink(caf::actor_system& sys,
                                       const status_hub_actor& hub, std::FILE* out) {
  return subscribed(hub, sys.spawn(reference_sink, out));
}

} // namespace seg
