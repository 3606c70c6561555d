#include "tools/segflow/control_gate.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <arpa/inet.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>

namespace seg::cli {

namespace {

using clock_type = std::chrono::steady_clock;

// BASP (caf/io/basp/header.hpp): a 32-byte header whose bytes 4..7 are the
// payload length, big-endian. A client handshake is small.
constexpr std::size_t basp_header_size = 32;
constexpr std::uint32_t max_handshake_payload = 64 * 1024;
// TLS (RFC 8446 5.1): a 5-byte record header (type, version, length at
// bytes 3..4); a record is at most 2^14 bytes plus 2048 of expansion.
constexpr std::size_t tls_header_size = 5;
constexpr std::uint32_t max_tls_record = 16384 + 2048;
constexpr unsigned char tls_change_cipher_spec = 20;
constexpr unsigned char tls_application_data = 23;
constexpr std::size_t buffer_size = 256 * 1024;
constexpr std::uint64_t listen_tag = ~std::uint64_t(0);
constexpr std::uint64_t wake_tag = ~std::uint64_t(0) - 1;

// Bytes read from one side, not yet written to the other.
struct relay_buffer {
  std::vector<char> bytes = std::vector<char>(buffer_size);
  std::size_t begin = 0;
  std::size_t end = 0;
  bool empty() const {
    return begin == end;
  }
};

struct client {
  int outside = -1; // the client's socket
  int inside = -1;  // ours to CAF
  bool inside_connected = false;
  relay_buffer to_inside;
  relay_buffer to_outside;
  std::uint32_t outside_events = 0;
  std::uint32_t inside_events = 0;
  // The client's first message (its handshake), as far as it came.
  std::array<unsigned char, basp_header_size> header{};
  std::size_t seen = 0;
  std::size_t needed = basp_header_size;
  bool header_read = false;
  bool handshaken = false;
  clock_type::time_point deadline;
};

void close_fd(int& fd) {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
}

} // namespace

gate_limits limits_for_descriptors(std::uint64_t soft_limit, std::uint64_t open_now,
                                   std::uint64_t reserve) {
  gate_limits l;
  auto used = open_now + reserve;
  auto spare = soft_limit > used ? soft_limit - used : 0;
  l.max_clients = std::size_t(std::clamp<std::uint64_t>(spare / 3, 2, 1024));
  l.max_handshaking = std::max<std::size_t>(1, l.max_clients / 2);
  return l;
}

std::uint64_t raise_descriptor_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    auto raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
      lim = raised;
  }
  return std::uint64_t(lim.rlim_cur);
}

std::uint64_t open_descriptors() {
  std::uint64_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

struct control_gate::impl {
  int listener = -1;
  int epoll = -1;
  int wake = -1;
  std::uint16_t port = 0;
  std::uint16_t backend_port = 0;
  gate_limits limits;
  gate_protocol protocol = gate_protocol::basp;
  std::thread thread;
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, client> clients;
  std::deque<std::uint64_t> handshaking; // in connection order; ids may be stale
  std::size_t handshaking_count = 0;
  bool listening = true;
  std::atomic<bool> exit_requested{false};
  std::atomic<bool> close_requested{false};
  bool closed = false;
  clock_type::time_point resume_listening;
  std::uint64_t refused = 0;
  std::uint64_t timed_out = 0;
  std::uint64_t evicted = 0;
  // Each relayed client's address by the local port of our connection to
  // CAF (the peer port CAF sees); read by other threads.
  mutable std::mutex peers_mutex;
  std::unordered_map<std::uint16_t, std::string> peers;
  std::unordered_map<std::uint64_t, std::uint16_t> inside_port; // by client id

  void watch(int fd, std::uint64_t tag, std::uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    ::epoll_ctl(epoll, op, fd, &ev);
  }

  // What each side waits for: reading only into an empty buffer (so a slow
  // reader slows its writer), writing while there is something to write.
  void update(std::uint64_t id, client& c) {
    std::uint32_t out = (c.to_inside.empty() ? EPOLLIN : 0u)
                        | (c.to_outside.empty() ? 0u : EPOLLOUT);
    std::uint32_t in = (c.to_outside.empty() && c.inside_connected ? EPOLLIN : 0u)
                       | (c.to_inside.empty() && c.inside_connected ? 0u : EPOLLOUT);
    if (out != c.outside_events)
      watch(c.outside, id << 1, c.outside_events = out, EPOLL_CTL_MOD);
    if (in != c.inside_events)
      watch(c.inside, (id << 1) | 1, c.inside_events = in, EPOLL_CTL_MOD);
  }

  void close_client(std::uint64_t id) {
    auto it = clients.find(id);
    if (it == clients.end())
      return;
    if (!it->second.handshaken)
      --handshaking_count;
    if (auto p = inside_port.find(id); p != inside_port.end()) {
      std::lock_guard<std::mutex> lock(peers_mutex);
      peers.erase(p->second);
      inside_port.erase(p);
    }
    close_fd(it->second.outside);
    close_fd(it->second.inside);
    clients.erase(it);
  }

  // Follows the client's TLS records up to its first encrypted one (TLS 1.3
  // encrypts from the client's second flight on; 1.2 from its Finished);
  // false if the bytes are not TLS. A client without a certificate CAF
  // trusts is closed by CAF itself at the end of the TLS handshake.
  bool account_tls(client& c, const char* data, std::size_t n) {
    for (std::size_t i = 0; i < n && !c.handshaken;) {
      if (!c.header_read) {
        c.header[c.seen++] = static_cast<unsigned char>(data[i++]);
        if (c.seen < tls_header_size)
          continue;
        auto type = c.header[0];
        std::uint32_t len = (std::uint32_t(c.header[3]) << 8) | std::uint32_t(c.header[4]);
        if (type < tls_change_cipher_spec || type > tls_application_data || c.header[1] != 3
            || len > max_tls_record)
          return false;
        c.needed = len;
        c.header_read = true;
        continue;
      }
      auto take = std::min(n - i, c.needed);
      i += take;
      c.needed -= take;
      if (c.needed == 0) {
        if (c.header[0] == tls_application_data) {
          c.handshaken = true;
          --handshaking_count;
        }
        c.header_read = false;
        c.seen = 0;
      }
    }
    return true;
  }

  // Follows the client's first message; false if it cannot be a handshake.
  bool account(client& c, const char* data, std::size_t n) {
    if (protocol == gate_protocol::tls)
      return account_tls(c, data, n);
    std::size_t i = 0;
    while (i < n && c.seen < basp_header_size)
      c.header[c.seen++] = static_cast<unsigned char>(data[i++]);
    if (c.seen < basp_header_size)
      return true;
    if (!c.header_read) {
      std::uint32_t len = (std::uint32_t(c.header[4]) << 24) | (std::uint32_t(c.header[5]) << 16)
                          | (std::uint32_t(c.header[6]) << 8) | std::uint32_t(c.header[7]);
      if (len > max_handshake_payload)
        return false;
      c.needed = basp_header_size + len;
      c.header_read = true;
    }
    c.seen += n - i;
    if (c.seen >= c.needed) {
      c.handshaken = true;
      --handshaking_count;
    }
    return true;
  }

  // Writes what `b` holds to `fd`; false on a broken connection.
  static bool flush(relay_buffer& b, int fd) {
    while (!b.empty()) {
      auto n = ::send(fd, b.bytes.data() + b.begin, b.end - b.begin, MSG_NOSIGNAL);
      if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK;
      b.begin += std::size_t(n);
    }
    b.begin = b.end = 0;
    return true;
  }

  // Reads from `from` into the empty buffer `b`; false on end or error.
  bool fill(client& c, int from, relay_buffer& b, bool outside) {
    auto n = ::recv(from, b.bytes.data(), b.bytes.size(), 0);
    if (n == 0)
      return false;
    if (n < 0)
      return errno == EAGAIN || errno == EWOULDBLOCK;
    b.begin = 0;
    b.end = std::size_t(n);
    if (outside && !c.handshaken)
      return account(c, b.bytes.data(), b.end);
    return true;
  }

  void on_event(std::uint64_t tag, std::uint32_t events) {
    auto id = tag >> 1;
    bool inside = (tag & 1) != 0;
    auto it = clients.find(id);
    if (it == clients.end())
      return;
    auto& c = it->second;
    bool ok = true;
    if (inside && !c.inside_connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(c.inside, SOL_SOCKET, SO_ERROR, &err, &len);
      ok = err == 0;
      c.inside_connected = ok;
    }
    if (ok && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
      if (inside && c.to_outside.empty())
        ok = fill(c, c.inside, c.to_outside, false);
      else if (!inside && c.to_inside.empty())
        ok = fill(c, c.outside, c.to_inside, true);
    }
    if (ok)
      ok = flush(c.to_outside, c.outside) && (!c.inside_connected || flush(c.to_inside, c.inside));
    if (!ok) {
      // One side is gone: hand on what it sent, then close both.
      flush(c.to_outside, c.outside);
      if (c.inside_connected)
        flush(c.to_inside, c.inside);
      return close_client(id);
    }
    update(id, c);
  }

  void evict_oldest_handshaking() {
    while (!handshaking.empty()) {
      auto id = handshaking.front();
      handshaking.pop_front();
      auto it = clients.find(id);
      if (it != clients.end() && !it->second.handshaken) {
        ++evicted;
        return close_client(id);
      }
    }
  }

  void accept_clients() {
    for (;;) {
      sockaddr_in from{};
      socklen_t from_len = sizeof from;
      int fd = ::accept4(listener, reinterpret_cast<sockaddr*>(&from), &from_len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors anyway: stop accepting for a moment instead
          // of spinning on a listener that stays readable.
          spdlog::warn("control_accept_paused error=\"{}\"", std::strerror(errno));
          watch(listener, listen_tag, 0, EPOLL_CTL_DEL);
          listening = false;
          resume_listening = clock_type::now() + std::chrono::milliseconds(200);
        }
        return;
      }
      if (handshaking_count >= limits.max_handshaking)
        evict_oldest_handshaking();
      if (clients.size() >= limits.max_clients) {
        if (refused++ % 100 == 0)
          spdlog::warn("control_client_refused clients={} refused={}", clients.size(), refused);
        ::close(fd);
        continue;
      }
      int in = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(backend_port);
      to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (in < 0
          || (::connect(in, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0
              && errno != EINPROGRESS)) {
        spdlog::warn("control_backend_unreachable error=\"{}\"", std::strerror(errno));
        ::close(fd);
        if (in >= 0)
          ::close(in);
        continue;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ::setsockopt(in, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto id = next_id++;
      remember_peer(id, in, from);
      auto& c = clients[id];
      c.outside = fd;
      c.inside = in;
      c.deadline = clock_type::now() + limits.handshake_timeout;
      c.outside_events = EPOLLIN;
      c.inside_events = EPOLLOUT;
      watch(fd, id << 1, c.outside_events, EPOLL_CTL_ADD);
      watch(in, (id << 1) | 1, c.inside_events, EPOLL_CTL_ADD);
      handshaking.push_back(id);
      ++handshaking_count;
    }
  }

  // Notes that the client at `from` reaches CAF through `in` (whose local
  // port connect() has bound).
  void remember_peer(std::uint64_t id, int in, const sockaddr_in& from) {
    sockaddr_in local{};
    socklen_t len = sizeof local;
    char host[INET_ADDRSTRLEN] = {};
    if (::getsockname(in, reinterpret_cast<sockaddr*>(&local), &len) != 0
        || ::inet_ntop(AF_INET, &from.sin_addr, host, sizeof host) == nullptr)
      return;
    auto port = ntohs(local.sin_port);
    inside_port[id] = port;
    std::lock_guard<std::mutex> lock(peers_mutex);
    peers[port] = std::string(host) + ":" + std::to_string(ntohs(from.sin_port));
  }

  // Closes clients past their handshake deadline; returns the ms until the
  // next deadline (or -1: none).
  int expire() {
    auto now = clock_type::now();
    if (!listening && !closed && now >= resume_listening) {
      watch(listener, listen_tag, EPOLLIN, EPOLL_CTL_ADD);
      listening = true;
    }
    while (!handshaking.empty()) {
      auto it = clients.find(handshaking.front());
      if (it == clients.end() || it->second.handshaken) {
        handshaking.pop_front();
        continue;
      }
      if (it->second.deadline > now)
        break;
      ++timed_out;
      spdlog::debug("control_handshake_timeout");
      handshaking.pop_front();
      close_client(it->first);
    }
    auto next = handshaking.empty() ? clock_type::time_point::max()
                                    : clients[handshaking.front()].deadline;
    if (!listening && !closed)
      next = std::min(next, resume_listening);
    if (next == clock_type::time_point::max())
      return -1;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
    return int(std::clamp<long long>(ms + 1, 1, 60'000));
  }

  void run() {
    std::array<epoll_event, 64> events{};
    for (;;) {
      int timeout = expire();
      int n = ::epoll_wait(epoll, events.data(), int(events.size()), timeout);
      for (int i = 0; i < n; ++i) {
        auto tag = events[std::size_t(i)].data.u64;
        if (tag == wake_tag) {
          std::uint64_t count = 0;
          [[maybe_unused]] auto r = ::read(wake, &count, sizeof count);
          if (exit_requested)
            return;
          if (close_requested && !closed) {
            if (listening)
              watch(listener, listen_tag, 0, EPOLL_CTL_DEL);
            close_fd(listener);
            listening = false;
            closed = true;
          }
          continue;
        }
        if (tag == listen_tag)
          accept_clients();
        else
          on_event(tag, events[std::size_t(i)].events);
      }
    }
  }
};

control_gate::control_gate(const std::string& host, std::uint16_t port)
  : impl_(std::make_unique<impl>()) {
  auto where = host + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int err = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
      err != 0)
    throw std::runtime_error("cannot listen on " + where + ": " + ::gai_strerror(err));
  auto& d = *impl_;
  d.listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(d.listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bool ok = d.listener >= 0 && ::bind(d.listener, found->ai_addr, found->ai_addrlen) == 0
            && ::listen(d.listener, 512) == 0;
  ::freeaddrinfo(found);
  if (!ok) {
    auto why = std::string(std::strerror(errno));
    close_fd(d.listener);
    throw std::runtime_error("cannot listen on " + where + ": " + why);
  }
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  ::getsockname(d.listener, reinterpret_cast<sockaddr*>(&bound), &len);
  d.port = ntohs(bound.sin_port);
  d.epoll = ::epoll_create1(EPOLL_CLOEXEC);
  d.wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (d.epoll < 0 || d.wake < 0)
    throw std::runtime_error("cannot listen on " + where + ": " + std::strerror(errno));
}

control_gate::~control_gate() {
  stop();
}

std::uint16_t control_gate::port() const {
  return impl_->port;
}

std::string control_gate::client_behind(std::uint16_t inside_port) const {
  std::lock_guard<std::mutex> lock(impl_->peers_mutex);
  auto it = impl_->peers.find(inside_port);
  return it == impl_->peers.end() ? std::string() : it->second;
}

void control_gate::start(std::uint16_t backend_port, const gate_limits& limits,
                         gate_protocol protocol) {
  auto& d = *impl_;
  d.backend_port = backend_port;
  d.limits = limits;
  d.protocol = protocol;
  d.watch(d.listener, listen_tag, EPOLLIN, EPOLL_CTL_ADD);
  d.watch(d.wake, wake_tag, EPOLLIN, EPOLL_CTL_ADD);
  d.thread = std::thread([&d] { d.run(); });
}

void control_gate::stop_accepting() {
  auto& d = *impl_;
  if (!d.thread.joinable())
    return;
  d.close_requested = true;
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(d.wake, &one, sizeof one);
}

void control_gate::stop() {
  auto& d = *impl_;
  if (d.thread.joinable()) {
    d.exit_requested = true;
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(d.wake, &one, sizeof one);
    d.thread.join();
    if (d.refused + d.timed_out + d.evicted > 0)
      spdlog::info("control_gate_closed refused={} handshake_timeouts={} evicted={}",
                   d.refused, d.timed_out, d.evicted);
  }
  while (!d.clients.empty())
    d.close_client(d.clients.begin()->first);
  close_fd(d.listener);
  close_fd(d.epoll);
  close_fd(d.wake);
}

} // namespace seg::cli
