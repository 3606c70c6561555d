#pragma once

// serve's token: the secret a client shows in its hello to serve's
// gatekeeper (actors/gatekeeper.hpp). 32 random bytes as 64 hex digits in
// <state dir>/token, mode 0600, made by the first serve start. It is never
// logged.

#include <filesystem>
#include <string>
#include <string_view>

namespace seg::io {

/// The token file's name in the state directory.
inline constexpr const char* token_file_name = "token";

/// The token of serve's state directory `state_dir`: read, or created
/// (atomically, 0600) when there is none yet.
/// @throws io_error naming the file (unreadable, not private, malformed).
std::string load_or_create_token(const std::filesystem::path& state_dir);

/// Reads a token file (a client's copy, or serve's own).
/// @throws io_error naming the file and what is wrong with it.
std::string read_token(const std::filesystem::path& file);

/// A fresh token: 32 bytes from the kernel's random pool, hex.
std::string new_token();

/// Compares two tokens in time that depends only on their lengths.
bool token_equal(std::string_view a, std::string_view b);

} // namespace seg::io
