#include "actors/io/trace_file.hpp"
#include "actors/io/trace_payload.hpp"

#include <chrono>
#include <cstring>
#include <sstream>

#include <msgpack.hpp>

namespace seg::io {

namespace {

constexpr char magic[] = "SEGFLOW-TRACE\n";
constexpr std::size_t magic_size = sizeof(magic) - 1;

// Limits for one record's msgpack: generous for real traces, small enough
// that a hostile length cannot exhaust memory.
msgpack::unpack_limit record_limits() {
  return msgpack::unpack_limit(1u << 20, 1u << 16, trace_max_record_bytes,
                               trace_max_record_bytes, 1u << 10, 64);
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

void put_u32(std::ostream& out, std::uint32_t n) {
  unsigned char b[4] = {static_cast<unsigned char>(n), static_cast<unsigned char>(n >> 8),
                        static_cast<unsigned char>(n >> 16),
                        static_cast<unsigned char>(n >> 24)};
  out.write(reinterpret_cast<const char*>(b), 4);
}

template <class T>
void get(const msgpack::object& o, T& x, const std::string& what) {
  try {
    o.convert(x);
  } catch (const std::exception&) {
    throw trace_error(what + ": wrong type");
  }
}

const msgpack::object& field(const msgpack::object& arr, std::uint32_t i,
                             const std::string& what) {
  if (arr.type != msgpack::type::ARRAY || arr.via.array.size <= i)
    throw trace_error(what + ": too few fields");
  return arr.via.array.ptr[i];
}

} // namespace

trace_writer::trace_writer(const std::filesystem::path& file, const trace_header& header)
  : file_(file), header_(header), out_(file, std::ios::binary | std::ios::trunc) {
  if (!out_)
    throw trace_error(file.string() + ": cannot create trace file");
  start_ns_ = now_ns();
  out_.write(magic, magic_size);
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(10);
  pk.pack(header.version);
  pk.pack(header.segflow_version);
  pk.pack(header.host);
  pk.pack(header.profile);
  pk.pack(header.settings_toml);
  pk.pack(header.command);
  pk.pack(header.inputs);
  pk.pack(header.data_root);
  pk.pack(header.embed_bytes);
  pk.pack(header.created_unix_ms);
  put_u32(out_, std::uint32_t(buf.size()));
  out_.write(buf.data(), std::streamsize(buf.size()));
  out_.flush();
}

trace_writer::~trace_writer() {
  flush();
}

void trace_writer::append(std::string sender, std::string receiver, std::string type,
                          std::string payload) {
  std::lock_guard<std::mutex> guard{mtx_};
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(6);
  pk.pack(next_seq_++);
  pk.pack(now_ns() - start_ns_);
  pk.pack(sender);
  pk.pack(receiver);
  pk.pack(type);
  pk.pack_bin(std::uint32_t(payload.size()));
  pk.pack_bin_body(payload.data(), std::uint32_t(payload.size()));
  put_u32(out_, std::uint32_t(buf.size()));
  out_.write(buf.data(), std::streamsize(buf.size()));
}

void trace_writer::flush() {
  std::lock_guard<std::mutex> guard{mtx_};
  out_.flush();
}

std::uint64_t trace_writer::records() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return next_seq_;
}

namespace {

// Reads one length-prefixed record; nullopt at a clean end of file.
std::optional<std::string> read_frame(std::ifstream& in, const std::string& where) {
  unsigned char b[4];
  in.read(reinterpret_cast<char*>(b), 4);
  auto got = in.gcount();
  if (got == 0)
    return std::nullopt;
  if (got != 4)
    throw trace_error(where + ": truncated record length");
  std::uint32_t len = std::uint32_t(b[0]) | (std::uint32_t(b[1]) << 8)
                      | (std::uint32_t(b[2]) << 16) | (std::uint32_t(b[3]) << 24);
  if (len == 0 || len > trace_max_record_bytes)
    throw trace_error(where + ": record length " + std::to_string(len)
                      + " is out of bounds (max "
                      + std::to_string(trace_max_record_bytes) + ")");
  // Read in chunks so a lying length on a short file allocates little.
  std::string bytes;
  constexpr std::size_t chunk = 1 << 20;
  while (bytes.size() < len) {
    auto want = std::min<std::size_t>(chunk, len - bytes.size());
    auto old = bytes.size();
    bytes.resize(old + want);
    in.read(bytes.data() + old, std::streamsize(want));
    if (std::size_t(in.gcount()) != want)
      throw trace_error(where + ": truncated record (" + std::to_string(len)
                        + " bytes announced)");
  }
  return bytes;
}

msgpack::object_handle parse(const std::string& bytes, const std::string& where) {
  try {
    std::size_t off = 0;
    auto handle = msgpack::unpack(bytes.data(), bytes.size(), off, nullptr, nullptr,
                                  record_limits());
    if (off != bytes.size())
      throw trace_error(where + ": trailing bytes after the record");
    return handle;
  } catch (const trace_error&) {
    throw;
  } catch (const std::exception& e) {
    throw trace_error(where + ": malformed msgpack (" + e.what() + ")");
  }
}

} // namespace

trace_reader::trace_reader(const std::filesystem::path& file)
  : file_(file), in_(file, std::ios::binary) {
  if (!in_)
    throw trace_error(file.string() + ": cannot open trace file");
  char head[magic_size];
  in_.read(head, magic_size);
  if (std::size_t(in_.gcount()) != magic_size || std::memcmp(head, magic, magic_size) != 0)
    throw trace_error(file.string() + ": not a segflow trace (bad magic)");
  auto where = file.string() + ": header";
  auto bytes = read_frame(in_, where);
  if (!bytes)
    throw trace_error(where + ": missing");
  auto handle = parse(*bytes, where);
  auto& h = handle.get();
  get(field(h, 0, where), header_.version, where + " version");
  if (header_.version != trace_format_version)
    throw trace_error(where + ": unknown format version " + std::to_string(header_.version)
                      + " (this build reads " + std::to_string(trace_format_version) + ")");
  if (h.via.array.size != 10)
    throw trace_error(where + ": expected 10 fields");
  get(field(h, 1, where), header_.segflow_version, where + " segflow_version");
  get(field(h, 2, where), header_.host, where + " host");
  get(field(h, 3, where), header_.profile, where + " profile");
  get(field(h, 4, where), header_.settings_toml, where + " settings");
  get(field(h, 5, where), header_.command, where + " command");
  get(field(h, 6, where), header_.inputs, where + " inputs");
  get(field(h, 7, where), header_.data_root, where + " data_root");
  get(field(h, 8, where), header_.embed_bytes, where + " embed_bytes");
  get(field(h, 9, where), header_.created_unix_ms, where + " created");
}

std::optional<trace_record> trace_reader::next() {
  auto where = file_.string() + ": record " + std::to_string(index_);
  auto bytes = read_frame(in_, where);
  if (!bytes)
    return std::nullopt;
  auto handle = parse(*bytes, where);
  auto& r = handle.get();
  if (r.type != msgpack::type::ARRAY || r.via.array.size != 6)
    throw trace_error(where + ": expected an array of 6 fields");
  trace_record rec;
  get(field(r, 0, where), rec.seq, where + " seq");
  get(field(r, 1, where), rec.time_ns, where + " time");
  get(field(r, 2, where), rec.sender, where + " sender");
  get(field(r, 3, where), rec.receiver, where + " receiver");
  get(field(r, 4, where), rec.type, where + " type");
  auto& p = field(r, 5, where);
  if (p.type != msgpack::type::BIN)
    throw trace_error(where + " payload: wrong type");
  rec.payload.assign(p.via.bin.ptr, p.via.bin.size);
  ++index_;
  return rec;
}

namespace {

void render(const msgpack::object& o, std::ostringstream& os, int depth) {
  if (depth > 32) {
    os << "...";
    return;
  }
  switch (o.type) {
    case msgpack::type::ARRAY:
      os << '[';
      for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
        if (i > 0)
          os << ", ";
        if (i >= 64) {
          os << "... (" << o.via.array.size << " items)";
          break;
        }
        render(o.via.array.ptr[i], os, depth + 1);
      }
      os << ']';
      break;
    case msgpack::type::BIN:
      os << "<" << o.via.bin.size << " bytes>";
      break;
    case msgpack::type::STR:
      os << '"' << std::string(o.via.str.ptr, std::min<std::uint32_t>(o.via.str.size, 200))
         << (o.via.str.size > 200 ? "...\"" : "\"");
      break;
    default:
      os << o;
      break;
  }
}

} // namespace

msgpack::object_handle unpack_trace_payload(const std::string& payload) {
  std::size_t off = 0;
  return msgpack::unpack(payload.data(), payload.size(), off, nullptr, nullptr,
                         record_limits());
}

std::string payload_text(const std::string& payload) {
  try {
    auto handle = unpack_trace_payload(payload);
    std::ostringstream os;
    render(handle.get(), os, 0);
    return os.str();
  } catch (const std::exception& e) {
    return std::string("<malformed payload: ") + e.what() + ">";
  }
}

std::uint64_t content_hash(const std::uint8_t* data, std::size_t size) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 1099511628211ull;
  }
  return h;
}

} // namespace seg::io
