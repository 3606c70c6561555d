#pragma once

// The operations journal: one small JSON file per job run (an operation) in
// `<state dir>/ops/<id>.json`, rewritten atomically (fsync'ed) at each change
// of state, so a crash leaves the last state on disk. An operation moves
//   created -> computing -> write_started -> success | exception | write_failed
// and, from write_started until a clean end, records its export scope (the
// paths it writes, the records it exports from, the folders its temporary
// files go to) and the indefinite locks it holds on them. An operation whose
// scope is set and whose state is not success is stuck: `segflow ops stuck`
// lists it, `segflow ops recover ID` cleans its scope and replays its export.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace seg::io {

/// The states of an operation.
enum class op_state { created, computing, write_started, success, exception, write_failed };

const char* to_string(op_state s);
std::optional<op_state> parse_op_state(const std::string& text);

/// A key an operation holds indefinitely, with its lease token (for a
/// value-matched release).
struct op_lock {
  std::string key;
  std::string token;
};

/// What an export writes and reads, recorded before it writes.
struct op_scope {
  std::string data_root;                 ///< the output layout's data root
  std::vector<std::string> outputs;      ///< archive, TSV copy, done.txt
  std::vector<std::string> records;      ///< frame records exported from
  std::vector<std::string> temp_dirs;    ///< where its temporary files go
  std::vector<op_lock> locks;            ///< indefinite locks on the keys
  std::string process_datetime;          ///< the TSV's process fields, so a
  std::string process_uuid;              ///< replay writes the same bytes
};

/// One operation.
struct op_record {
  std::string id;                 ///< unique, never reused (see new_op_id)
  op_state state = op_state::created;
  std::uint64_t job = 0;          ///< the run id it executes
  std::string acquisition;        ///< the acquisition folder
  std::string host;               ///< holder: host name,
  std::int64_t pid = 0;           ///< process id,
  std::string boot_id;            ///< and boot (a pid of another boot is dead)
  std::int64_t created_unix_ms = 0;
  std::int64_t updated_unix_ms = 0;
  std::optional<op_scope> scope;  ///< set from write_started to a clean end
  std::string error;              ///< why it ended in exception/write_failed
  std::uint32_t recoveries = 0;   ///< times `ops recover` replayed it
};

/// This boot's id (/proc/sys/kernel/random/boot_id), "" if unknown.
std::string boot_id();

/// A fresh operation id: "op-<UTC time to ms>-<12 hex>".
std::string new_op_id();

/// True if `rec`'s holder is provably dead: this host, this boot, pid gone.
bool holder_dead_here(const op_record& rec);

/// True if `rec` is stuck: its scope is set and its state is not success.
bool is_stuck(const op_record& rec);

/// The journal of one state directory.
class op_journal {
public:
  /// Journal files go to `<state_dir>/ops` (created on first write).
  explicit op_journal(std::filesystem::path state_dir);

  const std::filesystem::path& dir() const { return dir_; }

  /// Records a new operation: gives `rec` a fresh id (its file is created
  /// exclusively, so an id is never reused) and writes it.
  /// @throws io_error naming the file.
  void create(op_record& rec) const;

  /// Rewrites `rec` atomically, with updated_unix_ms = now.
  /// @throws io_error naming the file.
  void write(op_record& rec) const;

  /// The operation `id`, or nothing if there is none (or its file is bad).
  std::optional<op_record> read(const std::string& id) const;

  /// Every readable operation, oldest first.
  std::vector<op_record> all() const;

  /// Removes the operations that are over (not stuck, and ended or held by
  /// a process provably dead here) and last changed more than `max_age_ms`
  /// before `now_ms`, then, of those over, the oldest beyond `keep_max`. A
  /// stuck operation is never removed. Also removes the journal's temporary
  /// files of dead writers (a crash while a record was rewritten). Returns
  /// how many operations were removed; a file that cannot be removed is
  /// logged and kept.
  std::size_t prune(std::int64_t max_age_ms, std::size_t keep_max,
                    std::int64_t now_ms) const;

private:
  std::filesystem::path dir_;
};

/// The JSON text of `rec` and back (nothing if `text` is not one).
std::string to_json_text(const op_record& rec);
std::optional<op_record> parse_op_record(const std::string& text);

} // namespace seg::io
