#include "tools/segflow/mqtt_client.hpp"

#include <mutex>
#include <stdexcept>

#include <mosquitto.h>
#include <spdlog/spdlog.h>

namespace seg::cli {

namespace {

std::once_flag lib_once;

} // namespace

mqtt_client::mqtt_client(options opts, message_fn on_message, connected_fn on_connected)
  : opts_(std::move(opts)),
    on_message_(std::move(on_message)),
    on_connected_(std::move(on_connected)) {
  std::call_once(lib_once, [] { mosquitto_lib_init(); });
  mosq_ = mosquitto_new(opts_.client_id.empty() ? nullptr : opts_.client_id.c_str(), true,
                        this);
  if (mosq_ == nullptr)
    throw std::runtime_error("mqtt: cannot create a libmosquitto client");
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  // Our own network thread: publish() from other threads only queues and
  // wakes it.
  mosquitto_threaded_set(mosq_, true);
  mosquitto_connect_callback_set(mosq_, &mqtt_client::on_connect);
  mosquitto_disconnect_callback_set(mosq_, &mqtt_client::on_disconnect);
  mosquitto_message_callback_set(mosq_, &mqtt_client::on_message);
}

mqtt_client::~mqtt_client() {
  stop(std::chrono::milliseconds(0));
  mosquitto_destroy(mosq_);
}

void mqtt_client::start() {
  if (!thread_.joinable())
    thread_ = std::thread([this] { run(); });
}

bool mqtt_client::publish(const std::string& topic, const std::string& payload) {
  if (!connected_)
    return false;
  auto rc = mosquitto_publish(mosq_, nullptr, topic.c_str(), int(payload.size()),
                              payload.data(), 0, false);
  if (rc != MOSQ_ERR_SUCCESS)
    return false;
  ++published_messages_;
  published_bytes_ += payload.size();
  return true;
}

void mqtt_client::stop(std::chrono::milliseconds flush) {
  if (!thread_.joinable())
    return;
  disconnecting_ = true;
  if (connected_)
    mosquitto_disconnect(mosq_); // queued behind what publish() queued
  auto deadline = std::chrono::steady_clock::now() + flush;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_until(lock, deadline, [this] { return !connected_.load(); });
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void mqtt_client::wait_backoff(std::chrono::milliseconds& delay) {
  std::unique_lock<std::mutex> lock(mutex_);
  wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
  delay = std::min(delay * 2, opts_.backoff_max);
}

void mqtt_client::run() {
  auto delay = opts_.backoff_min;
  bool have_socket = false;
  bool first = true;
  std::uint64_t failures = 0;
  while (!stopping_) {
    if (!have_socket) {
      auto rc = first ? mosquitto_connect(mosq_, opts_.host.c_str(), opts_.port,
                                          opts_.keepalive_s)
                      : mosquitto_reconnect(mosq_);
      if (rc != MOSQ_ERR_SUCCESS) {
        // Said once, then every 60th try: a broker may stay down for hours.
        if (failures++ % 60 == 0)
          spdlog::warn("mqtt_connect_failed broker={}:{} error=\"{}\" retry_ms={}",
                       opts_.host, opts_.port, mosquitto_strerror(rc), delay.count());
        wait_backoff(delay);
        continue;
      }
      first = false;
      have_socket = true;
    }
    auto rc = mosquitto_loop(mosq_, 100, 1);
    if (rc == MOSQ_ERR_SUCCESS) {
      if (connected_) {
        delay = opts_.backoff_min;
        failures = 0;
      }
      continue;
    }
    have_socket = false;
    if (connected_.exchange(false))
      wake_.notify_all();
    if (stopping_ || disconnecting_)
      break;
    spdlog::warn("mqtt_connection_lost broker={}:{} error=\"{}\"", opts_.host, opts_.port,
                 mosquitto_strerror(rc));
    wait_backoff(delay);
  }
}

void mqtt_client::on_connect(mosquitto*, void* self, int rc) {
  auto* c = static_cast<mqtt_client*>(self);
  if (rc != 0) {
    spdlog::warn("mqtt_connect_refused broker={}:{} reason=\"{}\"", c->opts_.host,
                 c->opts_.port, mosquitto_connack_string(rc));
    return;
  }
  for (auto& filter : c->opts_.subscriptions)
    mosquitto_subscribe(c->mosq_, nullptr, filter.c_str(), 0);
  c->connected_ = true;
  spdlog::info("mqtt_connected broker={}:{}", c->opts_.host, c->opts_.port);
  if (c->on_connected_)
    c->on_connected_();
}

void mqtt_client::on_disconnect(mosquitto*, void* self, int rc) {
  auto* c = static_cast<mqtt_client*>(self);
  c->connected_ = false;
  c->wake_.notify_all();
  if (rc != 0)
    spdlog::debug("mqtt_disconnected broker={}:{} rc={}", c->opts_.host, c->opts_.port, rc);
}

void mqtt_client::on_message(mosquitto*, void* self, const mosquitto_message* msg) {
  auto* c = static_cast<mqtt_client*>(self);
  if (msg == nullptr || msg->topic == nullptr || !c->on_message_)
    return;
  std::string payload(static_cast<const char*>(msg->payload),
                      static_cast<std::size_t>(msg->payloadlen));
  c->on_message_(msg->topic, payload);
}

} // namespace seg::cli
