#pragma once

// Shared parts of `segflow replay` for segment and serve traces.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "actors/io/trace_file.hpp"
#include "config/settings.hpp"
#include "messages/msgpack_codec.hpp"

namespace seg::cli {

/// What a replay starts from.
struct replay_setup {
  std::string file;                 ///< the recorded trace
  io::trace_header header;          ///< its header
  std::string recorded_root;        ///< data root the recorded paths start with
  std::string root;                 ///< --root: the data root to use instead
  std::filesystem::path dir;        ///< scratch directory of this replay
  config::sources sources;          ///< the recorded settings, plus --set
  config::settings settings;        ///< resolved from `sources`
  std::string own_trace;            ///< where the replay records its own trace
  /// The operation id each run had (the exporter's note:operation records).
  std::map<std::uint64_t, std::string> recorded_ops;
};

/// The operation ids a trace's runs had, by run id.
std::map<std::uint64_t, std::string> recorded_operations(const std::string& file);

/// Element `i` of record `r`'s payload as a T; throws io::trace_error
/// naming the file and the record when the payload is not `n` elements or
/// the element is not a T.
template <class T>
T payload_element(const std::string& file, const io::trace_record& r, std::size_t i,
                  std::size_t n) {
  auto where = file + ": record " + std::to_string(r.seq) + " (" + r.type + ")";
  try {
    auto handle = msgpack::unpack(r.payload.data(), r.payload.size());
    auto& arr = handle.get();
    if (arr.type != msgpack::type::ARRAY || arr.via.array.size != n || i >= n)
      throw io::trace_error(where + ": payload does not match its type list");
    T x;
    codec::reader cr;
    cr.read_root(arr.via.array.ptr[i], x);
    return x;
  } catch (const io::trace_error&) {
    throw;
  } catch (const std::exception& e) {
    throw io::trace_error(where + ": undecodable payload (" + e.what() + ")");
  }
}

/// `path` with the recorded data root replaced by --root.
std::string remap(const std::string& path, const replay_setup& setup);

/// Brings each acquisition the trace ran to the committed state its first
/// run started from: outputs removed, then, for a run that resumed with
/// committed frames (recorded in the reader's run message, or all of them
/// for a run the exporter finished at its begin), a full run
/// without trace and the records of every frame not in that committed set
/// removed again (a frame is committed iff its record exists), with the
/// TSV, the zip and done.txt. Crops of the removed frames stay; the replay
/// rewrites them byte for byte.
void restore_committed_state(const replay_setup& setup);

/// Replays a serve trace (see replay_serve.cpp); returns the exit code.
int replay_serve(const replay_setup& setup);

} // namespace seg::cli
