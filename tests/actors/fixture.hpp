#pragma once

// The deterministic fixture of the actor tests. Every actor of a fixture
// runs on CAF's test coordinator, on the test's own thread, one message at a
// time, and the clock moves only when the test moves it: a test drives the
// actors message by message (expect), or lets them run until none has
// anything left to do (run), and never sleeps or polls. Actors may still do
// real file and shared-memory I/O; only scheduling and time are simulated.
//
// Requests from the test go through a short-lived event-based actor, so an
// answer that never comes fails the test instead of blocking it. The shape
// (run, expect, inline_all_enqueues at the end) follows the fixtures of
// CAF's own tests and Zeek Broker's, on Catch2.

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>
#include <caf/response_promise.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <catch2/catch.hpp>

#include "actors/type_ids.hpp"

namespace seg::test {

/// segflow's message types on the deterministic scheduler.
struct deterministic_config : caf::actor_system_config {
  deterministic_config() {
    register_message_types(*this);
    set("scheduler.policy", caf::atom("testing"));
  }
};

/// Tells a stand-in to answer its waiting requests (test-only atom).
using answer_atom = caf::atom_constant<caf::atom("tanswer")>;

/// What a stand-in actor (fixture::stand_in) received, in arrival order.
struct inbox {
  std::vector<caf::message> messages;
  /// Requests it has not answered yet, oldest first.
  std::deque<caf::response_promise> pending;
  /// Answers for the next requests, oldest first.
  std::deque<caf::message> answers;

  /// Answers waiting requests with queued answers, oldest first.
  void deliver() {
    while (!pending.empty() && !answers.empty()) {
      pending.front().deliver(std::move(answers.front()));
      pending.pop_front();
      answers.pop_front();
    }
  }

  /// The messages that are exactly (Ts...), their elements copied out.
  template <class... Ts>
  std::vector<std::tuple<Ts...>> all() const {
    std::vector<std::tuple<Ts...>> out;
    for (auto& m : messages)
      if (m.match_elements<Ts...>())
        out.push_back(m.get_as_tuple<Ts...>());
    return out;
  }

  /// The single-element messages of type T.
  template <class T>
  std::vector<T> of() const {
    std::vector<T> out;
    for (auto& m : messages)
      if (m.match_elements<T>())
        out.push_back(m.get_as<T>(0));
    return out;
  }
};

class fixture {
public:
  deterministic_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched;

  fixture()
    : sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    // Lease and record times are real (system_clock); only CAF's timers use
    // this clock. Not zero, so "now minus a period" stays meaningful.
    sched.clock().current_time += std::chrono::hours(1);
  }

  /// Ends every actor the fixture spawned and lets them finish (exit
  /// handlers that flush or release), even when the test failed half-way.
  ~fixture() {
    for (auto& a : spawned_)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    run();
    sched.inline_all_enqueues();
  }

  fixture(const fixture&) = delete;
  fixture& operator=(const fixture&) = delete;

  /// Spawns an actor and runs its initialisation (what it does before its
  /// first message, e.g. a worker's first pull); the fixture ends it at the
  /// end of the test.
  template <class F, class... Ts>
  auto spawn(F fun, Ts&&... xs) {
    return adopt(sys.spawn(fun, std::forward<Ts>(xs)...));
  }

  /// Adopts an actor spawned elsewhere (e.g. by spawn_lock_manager): runs
  /// its initialisation if it has not run yet, and ends it at the end.
  template <class Handle>
  Handle adopt(Handle h) {
    if (sched.prioritize(h))
      sched.run_once();
    spawned_.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  /// Watches `who`: the result holds its exit reason once it is gone.
  template <class Handle>
  std::shared_ptr<std::optional<caf::error>> watch(const Handle& who) {
    auto out = std::make_shared<std::optional<caf::error>>();
    auto target = caf::actor_cast<caf::actor>(who);
    spawn([out, target](caf::event_based_actor* self) {
      self->monitor(target);
      self->set_down_handler([out, self](caf::down_msg& msg) {
        *out = msg.reason;
        self->quit();
      });
      return caf::behavior{[](never_sent) {}};
    });
    return out;
  }

  /// Dispatches messages until no actor has one left; returns how many.
  /// Timers and request timeouts do not fire: time stands still.
  std::size_t run() {
    return sched.run();
  }

  /// Moves the clock forward by `d`, firing the timers and delayed messages
  /// that fall due, then dispatches every message.
  std::size_t advance(caf::timespan d) {
    sched.advance_time(d);
    return run();
  }

  /// Dispatches messages one at a time until `done()` holds; fails the test
  /// if every actor runs out of messages first.
  template <class Predicate>
  void run_until(Predicate done) {
    while (!done())
      REQUIRE(sched.try_run_once());
  }

  /// The elements of `who`'s next message if it is exactly (Ts...).
  template <class... Ts, class Handle>
  std::optional<std::tuple<Ts...>> next_as(const Handle& who) {
    auto* ptr = caf::actor_cast<caf::abstract_actor*>(who);
    auto* e = ptr != nullptr ? ptr->peek_at_next_mailbox_element() : nullptr;
    if (e == nullptr || !e->content().template match_elements<Ts...>())
      return std::nullopt;
    return e->content().template get_as_tuple<Ts...>();
  }

  /// Whether actor `who` has a message waiting.
  template <class Handle>
  bool has_message(const Handle& who) {
    auto* ptr = caf::actor_cast<caf::abstract_actor*>(who);
    return ptr != nullptr && ptr->peek_at_next_mailbox_element() != nullptr;
  }

  /// The next message `to` handles must be exactly (Ts...): checks it,
  /// lets `to` handle it (that one message only) and returns its elements.
  template <class... Ts, class To>
  std::tuple<Ts...> expect(const To& to) {
    return expect_impl<Ts...>(nullptr, to);
  }

  /// As expect(to), and the message must come from `from`.
  template <class... Ts, class From, class To>
  std::tuple<Ts...> expect_from(const From& from, const To& to) {
    auto src = caf::actor_cast<caf::strong_actor_ptr>(from);
    REQUIRE(src != nullptr);
    return expect_impl<Ts...>(src, to);
  }

  /// `to`'s next message, rendered (for INFO and for tests that only need
  /// to know there is none: "").
  template <class Handle>
  std::string peek(const Handle& to) {
    auto* ptr = caf::actor_cast<caf::abstract_actor*>(to);
    auto* e = ptr != nullptr ? ptr->peek_at_next_mailbox_element() : nullptr;
    return e == nullptr ? std::string{} : caf::to_string(e->content());
  }

  /// Sends a message from outside every actor (no sender).
  template <class Handle, class... Ts>
  void send(const Handle& to, Ts&&... xs) {
    caf::anon_send(to, std::forward<Ts>(xs)...);
  }

  /// Sends a request, dispatches messages until nothing is left to do and
  /// returns the answer: its elements, or the error. Fails the test if no
  /// answer came (the request stays pending; nothing blocks).
  template <class... Rs, class Handle, class... Ts>
  caf::expected<std::tuple<Rs...>> request(const Handle& to, Ts... xs) {
    auto out = std::make_shared<std::optional<caf::expected<std::tuple<Rs...>>>>();
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(to, caf::infinite, xs...)
        .then([out](Rs&... rs) { *out = std::make_tuple(std::move(rs)...); },
              [out](caf::error& err) { *out = std::move(err); });
    });
    run();
    REQUIRE(out->has_value());
    return std::move(**out);
  }

  /// request() for an answer of one element.
  template <class R, class Handle, class... Ts>
  caf::expected<R> ask(const Handle& to, Ts... xs) {
    auto r = request<R>(to, std::move(xs)...);
    if (!r)
      return r.error();
    return std::move(std::get<0>(*r));
  }

  /// A stand-in for a peer actor, as a handle of type Handle: it records
  /// every message in `box`. It answers a request with the oldest of
  /// box->answers; with none queued the request waits in box->pending until
  /// the test answers it (answer()).
  template <class Handle = caf::actor>
  Handle stand_in(std::shared_ptr<inbox> box) {
    auto a = spawn([box](caf::event_based_actor* self) {
      self->set_default_handler(
        [box](caf::scheduled_actor* me, caf::message_view& x) -> caf::result<caf::message> {
          box->messages.push_back(x.copy_content_to_message());
          if (!me->current_mailbox_element()->mid.is_request())
            return caf::message{};
          box->pending.push_back(me->make_response_promise());
          box->deliver();
          return caf::delegated<caf::message>{};
        });
      // A promise is delivered from inside its actor, where CAF expects it.
      return caf::behavior{[box](answer_atom) { box->deliver(); }};
    });
    return caf::actor_cast<Handle>(a);
  }

  /// Answers the oldest request the stand-in `who` (recording in `box`)
  /// keeps waiting with (xs...); dispatches that one message.
  template <class Handle, class... Ts>
  void answer(const Handle& who, inbox& box, Ts&&... xs) {
    REQUIRE_FALSE(box.pending.empty());
    box.answers.push_back(caf::make_message(std::forward<Ts>(xs)...));
    send(caf::actor_cast<caf::actor>(who), answer_atom::value);
    expect<answer_atom>(who);
    REQUIRE(box.answers.empty());
  }

private:
  /// A type no one sends, to give a stand-in a non-empty behaviour.
  struct never_sent {};

  template <class... Ts, class To>
  std::tuple<Ts...> expect_impl(const caf::strong_actor_ptr& src, const To& to) {
    INFO("expected " << sizeof...(Ts) << " element(s) at the actor");
    REQUIRE(sched.prioritize(to));
    auto& dest = sched.next_job<caf::abstract_actor>();
    auto* e = dest.peek_at_next_mailbox_element();
    REQUIRE(e != nullptr);
    INFO("its next message: " << caf::to_string(e->content()).substr(0, 300));
    if (src != nullptr)
      REQUIRE(e->sender == src);
    REQUIRE(e->content().template match_elements<Ts...>());
    std::tuple<Ts...> out = e->content().template get_as_tuple<Ts...>(); // a copy
    sched.run_once();
    return out;
  }

  std::vector<caf::actor> spawned_;
};

} // namespace seg::test
