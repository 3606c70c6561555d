#include "actors/trace.hpp"

#include <atomic>
#include <memory>
#include <mutex>

#include <caf/local_actor.hpp>
#include <caf/message.hpp>

#include "actors/interfaces.hpp"
#include "actors/io/trace_file.hpp"
#include "messages/msgpack_codec.hpp"

namespace seg::trace {

namespace {

std::mutex writer_mtx;
std::unique_ptr<io::trace_writer> writer;
std::atomic<io::trace_writer*> current{nullptr};

// Packs the message's elements as a msgpack array, naming their types.
struct element_packer {
  const caf::message& msg;
  bool digest;
  msgpack::sbuffer buf;
  std::string types;

  void add_type(const std::string& t) {
    if (!types.empty())
      types += ',';
    types += t;
  }

  template <class T>
  bool try_pack(std::size_t i, const char* name, codec::writer& w) {
    if (!msg.match_element<T>(i))
      return false;
    auto copy = msg.get_as<T>(i);
    w.write(copy);
    add_type(name);
    return true;
  }

  void run() {
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_array(std::uint32_t(msg.size()));
    codec::writer w(buf, digest);
    for (std::size_t i = 0; i < msg.size(); ++i) {
      if (msg.match_element<caf::atom_value>(i)) {
        auto text = caf::to_string(msg.get_as<caf::atom_value>(i));
        pk.pack(text);
        add_type("atom:" + text);
        continue;
      }
      if (try_pack<std::uint64_t>(i, "u64", w) || try_pack<std::uint32_t>(i, "u32", w)
          || try_pack<std::string>(i, "str", w)
          || try_pack<frame_indices>(i, "seg::frame_indices", w)
          || try_pack<job_spec>(i, "seg::job_spec", w)
          || try_pack<job_plan>(i, "seg::job_plan", w)
          || try_pack<work_item>(i, "seg::work_item", w)
          || try_pack<frame_result>(i, "seg::frame_result", w)
          || try_pack<tile_frame>(i, "seg::tile_frame", w)
          || try_pack<tile_report>(i, "seg::tile_report", w)
          || try_pack<job_event>(i, "seg::job_event", w)
          || try_pack<job_summary>(i, "seg::job_summary", w)
          || try_pack<std::vector<job_summary>>(i, "seg::job_summaries", w)
          || try_pack<lease>(i, "seg::lease", w)
          || try_pack<std::vector<job_spec>>(i, "seg::job_specs", w)
          || try_pack<std::vector<std::uint64_t>>(i, "seg::job_ids", w)
          || try_pack<std::vector<std::string>>(i, "seg::keys", w)
          || try_pack<job_record>(i, "seg::job_record", w)
          || try_pack<queue_listing>(i, "seg::queue_listing", w))
        continue;
      // Handles and anything else: recorded by kind only.
      pk.pack(std::string("<opaque>"));
      add_type("opaque");
    }
  }
};

std::string actor_label(const caf::strong_actor_ptr& p) {
  if (!p)
    return "external";
  auto* a = p->get();
  // Remote proxies have no name of their own.
  auto* local = dynamic_cast<caf::local_actor*>(a);
  return std::string(local != nullptr ? local->name() : "remote") + "#"
         + std::to_string(a->id());
}

} // namespace

io::trace_writer* active() {
  return current.load(std::memory_order_acquire);
}

void start(const std::filesystem::path& file, const io::trace_header& header) {
  std::lock_guard<std::mutex> guard{writer_mtx};
  writer = std::make_unique<io::trace_writer>(file, header);
  current.store(writer.get(), std::memory_order_release);
}

void stop() {
  std::lock_guard<std::mutex> guard{writer_mtx};
  current.store(nullptr, std::memory_order_release);
  if (writer)
    writer->flush();
  writer.reset();
}

std::string type_names(const caf::message& msg) {
  element_packer p{msg, true, {}, {}};
  p.run();
  return p.types;
}

void record(caf::local_actor* self, const caf::message& msg) {
  auto* w = active();
  if (w == nullptr)
    return;
  element_packer p{msg, !w->header().embed_bytes, {}, {}};
  p.run();
  auto receiver = std::string(self->name()) + "#" + std::to_string(self->id());
  w->append(actor_label(self->current_sender()), std::move(receiver), std::move(p.types),
            std::string(p.buf.data(), p.buf.size()));
}

namespace {

// Appends a record `self` did not get as a message: `fill` packs its payload.
template <class Fill>
void append_note(caf::local_actor* self, const char* sender, std::string type, Fill fill) {
  auto* w = active();
  if (w == nullptr)
    return;
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  fill(pk);
  auto receiver = std::string(self->name()) + "#" + std::to_string(self->id());
  w->append(sender, std::move(receiver), std::move(type), std::string(buf.data(), buf.size()));
}

} // namespace

void note(caf::local_actor* self, const std::string& what,
          const std::vector<std::int64_t>& values) {
  append_note(self, "lost", "note:" + what, [&](msgpack::packer<msgpack::sbuffer>& pk) {
    pk.pack_array(1);
    pk.pack(values);
  });
}

void note_text(caf::local_actor* self, const std::string& what, std::uint64_t run,
               const std::string& text) {
  append_note(self, "journal", "note:" + what + ",u64,str",
              [&](msgpack::packer<msgpack::sbuffer>& pk) {
                pk.pack_array(3);
                pk.pack(what);
                pk.pack(run);
                pk.pack(text);
              });
}

} // namespace seg::trace
