#include "tools/segflow/node_flat.hpp"

#include <chrono>
#include <cstring>
#include <stdexcept>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/error.hpp"
#include "actors/flat_source.hpp"
#include "shm/image_segment.hpp"

namespace seg::cli {

namespace {
// Copies kept: the running job's flat and the next job's (prepared while
// the last frames run), plus one recalculated generation.
constexpr std::size_t kept_copies = 3;
constexpr auto piece_timeout = std::chrono::seconds(60);
} // namespace

node_flat_cache::node_flat_cache(caf::actor_system& sys, flat_source_actor source)
  : sys_(sys), source_(std::move(source)) {
}

node_flat_cache::~node_flat_cache() {
  clear();
}

void node_flat_cache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  copies_.clear();
}

void node_flat_cache::ensure(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& c : copies_)
    if (c->name() == name)
      return;
  auto t0 = std::chrono::steady_clock::now();
  caf::scoped_actor self{sys_};
  std::string why;
  flat_shape shape;
  self->request(source_, piece_timeout, atom::open::value, name)
    .receive([&](flat_shape& s) { shape = s; },
             [&](caf::error& err) { why = error_text(sys_, err); });
  if (!why.empty())
    throw std::runtime_error("flat " + name + " from serve: " + why);
  spdlog::debug("node_flat_shape name={} rows={} cols={} bytes={}", name, shape.rows,
                shape.cols, shape.bytes);
  std::shared_ptr<shm::image_segment> copy;
  try {
    copy = shm::image_segment::create(name, shape.rows, shape.cols, shape.type, 1);
  } catch (const std::runtime_error&) {
    // A copy left by an earlier node process: create removed it; again.
    copy = shm::image_segment::create(name, shape.rows, shape.cols, shape.type, 1);
  }
  auto image = copy->image(0);
  if (!image.isContinuous() || std::uint64_t(image.total()) * image.elemSize() != shape.bytes)
    throw std::runtime_error("flat " + name + ": serve's shape does not match its size");
  std::uint64_t pieces = 0;
  for (std::uint64_t offset = 0; offset < shape.bytes; ++pieces) {
    std::vector<std::uint8_t> piece;
    self->request(source_, piece_timeout, atom::fetch::value, name, offset, flat_piece_bytes)
      .receive([&](flat_piece& p) { piece = std::move(p.bytes); },
               [&](caf::error& err) { why = error_text(sys_, err); });
    spdlog::debug("node_flat_piece name={} offset={} bytes={} error=\"{}\"", name, offset,
                  piece.size(), why);
    if (!why.empty() || piece.empty())
      throw std::runtime_error("flat " + name + " from serve at byte " + std::to_string(offset)
                               + ": " + (why.empty() ? "empty piece" : why));
    if (piece.size() > shape.bytes - offset)
      throw std::runtime_error("flat " + name + ": serve sent more than its size");
    std::memcpy(image.data + offset, piece.data(), piece.size());
    offset += piece.size();
  }
  copies_.push_back(std::move(copy));
  while (copies_.size() > kept_copies)
    copies_.pop_front();
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
  spdlog::info("node_flat_copied name={} bytes={} pieces={} ms={:.0f}", name, shape.bytes,
               pieces, ms.count());
}

} // namespace seg::cli
