#include "actors/flat_source.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/error.hpp"
#include "shm/image_segment.hpp"

namespace seg {

namespace {

using self_ptr = flat_source_actor::stateful_pointer<flat_source_state>;

// The segment `name`, mapped (kept for the next piece); nullptr and `why`
// when it is not one of ours or cannot be mapped.
shm::image_segment* segment(self_ptr self, const std::string& name, std::string& why) {
  auto& st = self->state;
  if (name.rfind(st.prefix, 0) != 0 || name.find('/') != std::string::npos) {
    why = "flat source: '" + name + "' is not a segment of this serve";
    return nullptr;
  }
  if (st.mapped_name != name) {
    st.mapped.reset();
    st.mapped_name.clear();
    try {
      st.mapped = shm::image_segment::open(name, false);
      st.mapped_name = name;
    } catch (const std::exception& e) {
      why = std::string("flat source: ") + e.what();
      return nullptr;
    }
  }
  return st.mapped.get();
}

std::uint64_t image_bytes(const shm::image_segment& s) {
  auto m = s.image(0);
  return std::uint64_t(m.total()) * m.elemSize();
}

} // namespace

flat_source_actor::behavior_type flat_source(self_ptr self, std::string prefix) {
  self->state.prefix = std::move(prefix);
  return {
    [self](atom::open, const std::string& name) -> caf::result<flat_shape> {
      std::string why;
      auto* s = segment(self, name, why);
      if (s == nullptr)
        return make_error(ec::bad_request, why);
      return flat_shape{s->rows(), s->cols(), s->type(), image_bytes(*s)};
    },
    [self](atom::fetch, const std::string& name, std::uint64_t offset,
           std::uint32_t length) -> caf::result<flat_piece> {
      std::string why;
      auto* s = segment(self, name, why);
      if (s == nullptr)
        return make_error(ec::bad_request, why);
      auto m = s->image(0);
      auto total = image_bytes(*s);
      if (!m.isContinuous() || offset > total)
        return make_error(ec::bad_request, "flat source: piece out of range of " + name);
      auto n = std::min<std::uint64_t>({length, total - offset, flat_piece_bytes});
      auto* begin = m.data + offset;
      return flat_piece{offset, std::vector<std::uint8_t>(begin, begin + n)};
    },
  };
}

flat_source_actor spawn_flat_source(caf::actor_system& sys) {
  return sys.spawn(flat_source, "segflow-" + std::to_string(::getpid()) + "-");
}

} // namespace seg
