#pragma once

// serve's control port, in front of CAF. CAF 0.17's middleman accepts every
// connection and keeps one that never completes BASP's handshake forever (its
// connection-timeout only covers peers that sent a whole header), so idle
// clients could use up serve's file descriptors and fail the running job's
// file writes. The gate owns the listening socket instead and relays each
// client to CAF's own port on loopback; it bounds how long a client may take
// to complete its handshake and how many clients are connected at once, from
// the process's descriptor limit, keeping a reserve for the jobs.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace seg::cli {

/// What the clients speak, for following their handshake: BASP in the
/// clear, or BASP inside TLS (CAF's OpenSSL module).
enum class gate_protocol { basp, tls };

struct gate_limits {
  /// A client must have sent its whole first BASP message (the client
  /// handshake; with TLS: its first encrypted record, which comes after the
  /// TLS handshake's hello) this long after it connected, or it is closed.
  std::chrono::milliseconds handshake_timeout{5000};
  /// Clients connected at once (each costs serve three descriptors); when
  /// reached, a new client is closed at once.
  std::size_t max_clients = 64;
  /// Clients still in their handshake at once; when reached, the oldest of
  /// them is closed to make room for the new one (so a flood of idle
  /// connections cannot lock out a real client, which completes its
  /// handshake in milliseconds).
  std::size_t max_handshaking = 16;
};

/// Limits from the descriptor limit: `reserve` descriptors (and the ones
/// open now) stay for the jobs, the rest go to clients, three each.
gate_limits limits_for_descriptors(std::uint64_t soft_limit, std::uint64_t open_now,
                                   std::uint64_t reserve);

/// Raises this process's soft descriptor limit to its hard limit; returns
/// the soft limit in effect afterwards.
std::uint64_t raise_descriptor_limit();

/// Descriptors this process has open (entries of /proc/self/fd).
std::uint64_t open_descriptors();

class control_gate {
public:
  /// Listens on host:port (port 0: any free port). Throws
  /// std::runtime_error naming the address when it cannot.
  control_gate(const std::string& host, std::uint16_t port);
  ~control_gate();
  control_gate(const control_gate&) = delete;
  control_gate& operator=(const control_gate&) = delete;

  /// The port clients connect to.
  std::uint16_t port() const;

  /// The address (host:port) of the client the gate relays from its local
  /// port `inside_port` (the peer port CAF sees for it); empty if none.
  /// Safe from any thread.
  std::string client_behind(std::uint16_t inside_port) const;

  /// Starts relaying clients to 127.0.0.1:backend_port in a thread of its
  /// own.
  void start(std::uint16_t backend_port, const gate_limits& limits,
             gate_protocol protocol = gate_protocol::basp);

  /// Closes the listening socket; connected clients stay.
  void stop_accepting();

  /// Closes the listening socket and every client (also done on
  /// destruction).
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace seg::cli
