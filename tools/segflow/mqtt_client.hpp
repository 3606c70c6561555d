#pragma once

// A plain MQTT 3.1.1 client on libmosquitto, without CAF: one network thread
// that connects, subscribes, delivers messages to a callback and reconnects
// with backoff forever (a broker down at start, or restarted mid-run, is
// retried until stop()). publish() may be called from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace seg::cli {

class mqtt_client {
public:
  struct options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 1883;
    std::string client_id;             ///< empty: the library picks one
    std::vector<std::string> subscriptions; ///< filters, subscribed on every connect
    int keepalive_s = 30;
    std::chrono::milliseconds backoff_min{250};
    std::chrono::milliseconds backoff_max{5000};
  };
  /// Called on the network thread for every message: topic, payload.
  using message_fn = std::function<void(const std::string&, const std::string&)>;
  /// Called on the network thread after every successful connect.
  using connected_fn = std::function<void()>;

  /// @throws std::runtime_error if libmosquitto cannot make a client.
  mqtt_client(options opts, message_fn on_message, connected_fn on_connected);
  ~mqtt_client();

  mqtt_client(const mqtt_client&) = delete;
  mqtt_client& operator=(const mqtt_client&) = delete;

  /// Starts the network thread.
  void start();

  /// Queues a QoS 0, not retained message; false (and nothing sent) while
  /// not connected.
  bool publish(const std::string& topic, const std::string& payload);

  /// Sends what is queued, disconnects (waiting at most `flush`) and joins
  /// the network thread. Idempotent.
  void stop(std::chrono::milliseconds flush = std::chrono::milliseconds(1000));

  /// Messages and payload bytes handed to the broker so far.
  std::uint64_t published_messages() const {
    return published_messages_;
  }
  std::uint64_t published_bytes() const {
    return published_bytes_;
  }

private:
  void run();
  void wait_backoff(std::chrono::milliseconds& delay);
  static void on_connect(mosquitto*, void* self, int rc);
  static void on_disconnect(mosquitto*, void* self, int rc);
  static void on_message(mosquitto*, void* self, const mosquitto_message* msg);

  options opts_;
  message_fn on_message_;
  connected_fn on_connected_;
  mosquitto* mosq_ = nullptr;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> disconnecting_{false};
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> published_messages_{0};
  std::atomic<std::uint64_t> published_bytes_{0};
};

} // namespace seg::cli
