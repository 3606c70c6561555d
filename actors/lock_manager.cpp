#include "actors/lock_manager.hpp"
#include "actors/trace.hpp"
#include "actors/error.hpp"
#include "actors/io/iso_time.hpp"

#include <algorithm>
#include <filesystem>
#include <random>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <unistd.h>

#include <spdlog/spdlog.h>

namespace seg {

namespace {

namespace fs = std::filesystem;

caf::error error_of(const io::take_result& r) {
  return make_error(r.what == io::take_result::held ? ec::lease_held : ec::lock_failed,
                    r.text);
}

caf::error lock_error(std::string text) {
  return make_error(ec::lock_failed, std::move(text));
}

std::string holder_text(const lease& l) {
  return "acquisition " + l.key + " is being segmented by pid " + std::to_string(l.pid)
         + " on " + l.host + " since " + io::utc_iso_ms(l.since_unix_ms);
}

io::lease_info fresh_lease(const lock_manager_state& st, std::string key) {
  io::lease_info info;
  info.held.key = std::move(key);
  info.held.token = io::random_token();
  info.held.pid = ::getpid();
  info.held.host = st.cfg.host;
  info.held.since_unix_ms = io::unix_ms_now();
  info.held.expires_unix_ms = info.held.since_unix_ms + st.cfg.lease_duration.count();
  info.op = st.cfg.recovering;
  return info;
}

caf::expected<lease> acquire(lock_manager_state& st, const std::string& folder) {
  std::error_code ec;
  auto dir = fs::canonical(folder, ec);
  if (ec)
    return lock_error("cannot lock acquisition " + folder + ": " + ec.message());
  if (!fs::is_directory(dir, ec))
    return lock_error("cannot lock acquisition " + folder + ": not a folder");
  auto key = dir.string();
  if (auto i = st.held.find(key); i != st.held.end())
    return make_error(ec::lease_held, holder_text(i->second));
  auto l = fresh_lease(st, key);
  auto r = io::take_lease(l, st.cfg.lease_duration, st.cfg.host, "acquisition", st.tag);
  if (r.what != io::take_result::taken)
    return error_of(r);
  spdlog::info("lease_acquired {} key={} expires={}", st.tag, key,
               io::utc_iso_ms(l.held.expires_unix_ms));
  st.held.emplace(key, l.held);
  return l.held;
}

/// `key` made canonical: a folder, or a file name in an existing folder.
caf::expected<std::string> canonical_key(const std::string& key) {
  std::error_code ec;
  fs::path p{key};
  if (fs::is_directory(p, ec)) {
    auto dir = fs::canonical(p, ec);
    if (!ec)
      return dir.string();
  } else {
    auto parent = fs::canonical(p.parent_path(), ec);
    if (!ec && !p.filename().empty())
      return (parent / p.filename()).string();
  }
  return lock_error("cannot lock " + key + ": "
                    + (ec ? ec.message() : std::string("not a folder or file name")));
}

/// One all-or-nothing attempt at `keys`; keys this actor holds count as held.
io::take_all_result attempt(lock_manager_state& st, const std::vector<std::string>& keys) {
  for (auto& k : keys)
    if (auto i = st.held.find(k); i != st.held.end()) {
      io::take_all_result out;
      out.refusal = {io::take_result::held, holder_text(i->second), {}};
      return out;
    }
  auto r = io::take_leases(keys, fresh_lease(st, {}), st.cfg.lease_duration, st.tag);
  for (auto& l : r.taken) {
    spdlog::info("lease_acquired {} key={} expires={}", st.tag, l.held.key,
                 io::utc_iso_ms(l.held.expires_unix_ms));
    st.held.emplace(l.held.key, l.held);
  }
  return r;
}

std::vector<lease> leases_of(const io::take_all_result& r) {
  std::vector<lease> out;
  for (auto& l : r.taken)
    out.push_back(l.held);
  return out;
}

bool release(lock_manager_state& st, const lease& l) {
  std::error_code ec;
  auto canonical = fs::canonical(l.key, ec);
  auto key = ec ? l.key : canonical.string();
  if (auto i = st.held.find(key); i != st.held.end() && i->second.token == l.token)
    st.held.erase(i);
  auto matched = l;
  matched.key = key;
  if (!io::give_back_lease(matched, st.tag))
    return false;
  spdlog::info("lease_released {} key={}", st.tag, key);
  return true;
}

void release_all(lock_manager_state& st) {
  std::vector<lease> leases;
  for (auto& kv : st.held)
    leases.push_back(kv.second);
  for (auto& l : leases)
    release(st, l);
  st.held.clear();
}

void renew_all(lock_manager_state& st) {
  for (auto i = st.held.begin(); i != st.held.end();) {
    io::lease_info info;
    info.held = i->second;
    if (io::renew_lease(info, st.cfg.lease_duration, st.tag) == io::renewal::lost) {
      i = st.held.erase(i);
      continue;
    }
    i->second = info.held;
    ++i;
  }
}

/// The backoff before retry number `attempts`: doubling, with up to 50%
/// jitter so contenders that collided do not collide again in step.
std::chrono::milliseconds backoff(const lock_manager_config& cfg, std::uint32_t attempts) {
  static thread_local std::minstd_rand jitter{std::random_device{}()};
  auto base = cfg.retry_backoff.count() << std::min<std::uint32_t>(attempts - 1, 10);
  auto extra = std::uniform_int_distribution<std::int64_t>(0, base / 2)(jitter);
  return std::chrono::milliseconds(base + extra);
}

} // namespace

lock_manager_state::~lock_manager_state() {
  try {
    release_all(*this);
  } catch (...) {
    // nop: leases left behind expire
  }
}

caf::error validate(const lock_manager_config& cfg) {
  if (cfg.lease_duration.count() <= 0)
    return caf::make_error(caf::sec::runtime_error,
                           "lock manager: lease_duration must be > 0");
  if (cfg.renew_interval.count() <= 0 || cfg.renew_interval >= cfg.lease_duration)
    return caf::make_error(caf::sec::runtime_error,
                           "lock manager: renew_interval must be > 0 and shorter than "
                           "lease_duration");
  if (cfg.retry_backoff.count() <= 0)
    return caf::make_error(caf::sec::runtime_error,
                           "lock manager: retry_backoff must be > 0");
  return {};
}

lock_manager_actor::behavior_type
lock_manager(lock_manager_actor::stateful_pointer<lock_manager_state> self,
             lock_manager_config cfg) {
  if (cfg.host.empty())
    cfg.host = io::host_name();
  self->state.cfg = std::move(cfg);
  self->state.tag = "actor=lock-manager#" + std::to_string(self->id());
  auto schedule_renewal = [self] {
    auto& st = self->state;
    if (!st.held.empty() && !st.renew_scheduled) {
      self->delayed_send(self, st.cfg.renew_interval, atom::renew::value);
      st.renew_scheduled = true;
    }
  };
  // Makes one attempt for the pending acquisition `id`: delivers, fails, or
  // schedules the next attempt.
  auto try_pending = [self, schedule_renewal](std::uint64_t id) {
    auto& st = self->state;
    auto it = st.pending.find(id);
    if (it == st.pending.end())
      return;
    auto& p = it->second;
    ++p.attempts;
    auto r = attempt(st, p.keys);
    if (r.refusal.what == io::take_result::taken) {
      p.promise.deliver(leases_of(r));
      st.pending.erase(it);
      schedule_renewal();
      return;
    }
    // Failures and indefinite locks do not clear by waiting.
    bool final = r.refusal.what == io::take_result::failed || !r.refusal.op.empty()
                 || p.attempts > st.cfg.acquire_retries;
    if (final) {
      p.promise.deliver(error_of(r.refusal));
      st.pending.erase(it);
      return;
    }
    self->delayed_send(self, backoff(st.cfg, p.attempts), atom::retry::value, id);
  };
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& kv : self->state.pending)
      kv.second.promise.deliver(make_error(ec::shutting_down, "the lock manager stopped"));
    self->state.pending.clear();
    release_all(self->state);
    self->quit(msg.reason);
  });
  return trace::traced_all(self,
    [self, schedule_renewal](atom::acquire,
                             const std::string& folder) -> caf::result<lease> {
      auto l = acquire(self->state, folder);
      if (!l)
        return std::move(l.error());
      schedule_renewal();
      return std::move(*l);
    },
    [self, try_pending](atom::acquire, const std::vector<std::string>& keys)
      -> caf::result<std::vector<lease>> {
      pending_acquisition p;
      for (auto& k : keys) {
        auto key = canonical_key(k);
        if (!key)
          return std::move(key.error());
        p.keys.push_back(std::move(*key));
      }
      std::sort(p.keys.begin(), p.keys.end());
      p.keys.erase(std::unique(p.keys.begin(), p.keys.end()), p.keys.end());
      p.promise = self->make_response_promise<std::vector<lease>>();
      auto id = self->state.next_attempt++;
      auto promise = p.promise;
      self->state.pending.emplace(id, std::move(p));
      try_pending(id);
      return promise;
    },
    [try_pending](atom::retry, std::uint64_t id) { try_pending(id); },
    [self](atom::release, const lease& l) -> bool {
      return release(self->state, l);
    },
    [self, schedule_renewal](atom::renew) {
      // Only our own timer message clears the flag, so a renew sent by
      // someone else does not start a second timer.
      if (self->current_sender() && self->current_sender().get() == self->ctrl())
        self->state.renew_scheduled = false;
      renew_all(self->state);
      schedule_renewal();
    });
}

caf::expected<lock_manager_actor>
spawn_lock_manager(caf::actor_system& sys, const lock_manager_config& cfg) {
  if (auto err = validate(cfg))
    return err;
  return sys.spawn(lock_manager, cfg);
}

} // namespace seg
