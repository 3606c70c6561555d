#pragma once

// The message-trace file: a magic line, then length-prefixed msgpack
// records (4-byte little-endian length, then the record). The first record
// is the header. A trace is never trusted: the reader bounds every length
// and checks every type, and reports problems as trace_error naming the file
// and the record. No CAF here.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace seg::io {

/// The format version this build writes and reads.
constexpr std::uint32_t trace_format_version = 1;

/// The largest record the reader accepts (an embedded 4056x3040 JPEG frame
/// is ~2 MB; anything far beyond is a damaged or hostile file).
constexpr std::uint32_t trace_max_record_bytes = 64u << 20;

/// A problem with a trace file; what() names the file and the record.
class trace_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// What a trace was recorded with.
struct trace_header {
  std::uint32_t version = trace_format_version;
  std::string segflow_version;
  std::string host;
  std::string profile;
  std::string settings_toml;       ///< effective settings of the run
  std::string command;             ///< e.g. "segment"
  std::vector<std::string> inputs; ///< acquisition folders given
  std::string data_root;           ///< paths in payloads are relative to it
  bool embed_bytes = false;        ///< byte payloads embedded, else hash + size
  std::int64_t created_unix_ms = 0;
};

/// One message between actors.
struct trace_record {
  std::uint64_t seq = 0;
  std::int64_t time_ns = 0;        ///< monotonic, since the trace started
  std::string sender;              ///< actor name#id, or "external"
  std::string receiver;            ///< actor name#id
  std::string type;                ///< e.g. "atom(open),seg::job_spec"
  std::string payload;             ///< msgpack array of the message's elements
};

/// Appends records to a trace file; safe to call from several threads.
class trace_writer {
public:
  /// Creates (truncates) `file` and writes the header. Throws trace_error.
  trace_writer(const std::filesystem::path& file, const trace_header& header);
  ~trace_writer();

  /// Appends one record; seq and time are assigned here.
  void append(std::string sender, std::string receiver, std::string type,
              std::string payload);

  /// Flushes buffered records to the file.
  void flush();

  const trace_header& header() const {
    return header_;
  }

  std::uint64_t records() const;

private:
  std::filesystem::path file_;
  trace_header header_;
  std::ofstream out_;
  mutable std::mutex mtx_;
  std::uint64_t next_seq_ = 0;
  std::int64_t start_ns_ = 0;
};

/// Reads a trace record by record with bounded memory.
class trace_reader {
public:
  /// Opens `file` and reads its header. Throws trace_error.
  explicit trace_reader(const std::filesystem::path& file);

  const trace_header& header() const {
    return header_;
  }

  /// The next record, or nullopt at a clean end of file. Throws trace_error
  /// on truncation, absurd lengths or wrong types.
  std::optional<trace_record> next();

private:
  std::filesystem::path file_;
  std::ifstream in_;
  trace_header header_;
  std::uint64_t index_ = 0;
};

/// Renders a record's payload (msgpack) as JSON-like text for humans.
std::string payload_text(const std::string& payload);

/// 64-bit FNV-1a content hash, as traces record byte payloads by default.
std::uint64_t content_hash(const std::uint8_t* data, std::size_t size);

} // namespace seg::io
