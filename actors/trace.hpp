#pragma once

// Message tracing: every handler of a traced actor records the message it
// handles (sender, receiver, type, payload) before handling it, when a
// recorder is active. Wrap each handler of a behaviour with `traced(self, f)`;
// with no active recorder the cost is one pointer test.

#include <cstdint>
#include <filesystem>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/detail/type_traits.hpp>
#include <caf/fwd.hpp>
#include <caf/make_message.hpp>

namespace seg::io {
struct trace_header;
class trace_writer;
} // namespace seg::io

namespace seg::trace {

/// The process's active trace writer, or nullptr when not tracing.
io::trace_writer* active();

/// Starts recording to `file` (truncated). Throws io::trace_error.
void start(const std::filesystem::path& file, const io::trace_header& header);

/// Stops recording and flushes the file.
void stop();

/// Records `msg` as received by `self` from its current sender.
void record(caf::local_actor* self, const caf::message& msg);

/// Records an event that is not a message but shapes the run, as if
/// `self` had received it from "lost": type "note:<what>", payload one
/// array of `values`. Replay re-drives notes (e.g. a worker lost with the
/// item it held) at their recorded points. No-op when not tracing.
void note(caf::local_actor* self, const std::string& what,
          const std::vector<std::int64_t>& values);

/// Records a value the run took from outside (a fresh operation id, ...)
/// for the run `run`, as if `self` had received it from "journal": type
/// "note:<what>,u64,str". Replay feeds the recorded value back instead of
/// making a new one. No-op when not tracing.
void note_text(caf::local_actor* self, const std::string& what, std::uint64_t run,
               const std::string& text);

/// The element types of a message as the trace names them, e.g.
/// "atom:open,seg::job_spec".
std::string type_names(const caf::message& msg);

namespace detail {

template <class Self, class F, class... Ts>
auto wrap(Self self, F f, caf::detail::type_list<Ts...>) {
  return [self, f](Ts... xs) -> decltype(f(std::forward<Ts>(xs)...)) {
    if (active() != nullptr)
      record(self, caf::make_message(xs...));
    return f(std::forward<Ts>(xs)...);
  };
}

} // namespace detail

/// A handler with the same signature as `f` that records each message it
/// gets before calling `f`.
template <class Self, class F>
auto traced(Self self, F f) {
  using trait = caf::detail::get_callable_trait<F>;
  return detail::wrap(self, std::move(f), typename trait::arg_types{});
}

/// The behaviour of a traced actor: every handler wrapped with `traced`.
template <class Self, class... Fs>
auto traced_all(Self self, Fs... fs) {
  using behavior_type = typename std::remove_pointer_t<Self>::behavior_type;
  return behavior_type{traced(self, std::move(fs))...};
}

} // namespace seg::trace
