#pragma once

// Files only their owner may read: serve's token, private keys. Created
// atomically with mode 0600 from the start (never readable by others, not
// even half-written), read only when still private.

#include <filesystem>
#include <string>
#include <string_view>

namespace seg::io {

/// Creates `target` (mode 0600) holding `bytes`, atomically: a temporary file
/// made with O_EXCL and mode 0600, written, fsync'ed, then linked to
/// `target` (never replacing a file that is there) and the folder fsync'ed.
/// Returns false if `target` already exists (it is left alone).
/// @throws io_error naming `target`.
bool create_secret_file(const std::filesystem::path& target, std::string_view bytes);

/// Reads a secret file of at most `max_size` bytes. Refuses (io_error naming
/// the file and the fix) a symbolic link, anything but a regular file, and a
/// file group or others may read or write ("chmod 600 FILE").
std::string read_secret_file(const std::filesystem::path& file, std::size_t max_size);

} // namespace seg::io
