#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

// The EcoTaxa archive as the reference writes it (SPEC-planktoscope §4.6):
// a zip with every entry stored (no compression), flat names, the crops in
// object order and then the TSV.
namespace seg::io {

/// One crop to put in the archive: from memory, or from a file on disk.
struct zip_input {
  std::string name;                   ///< entry name, flat (no '/'), e.g. "<object_id>.jpg"
  std::vector<std::uint8_t> bytes;    ///< the content, used when `file` is empty
  std::filesystem::path file;         ///< read from here when not empty
};

/// Writes `zip_path`: the crops in order, then `tsv_name` holding `tsv_text`,
/// all ZIP_CM_STORE. Built in a temporary file in the same directory, which is
/// fsync'ed and renamed over `zip_path` (an existing archive is replaced
/// only by a complete one).
/// @throws io_error naming the archive (or the crop file that cannot be read,
///         or the duplicate/invalid entry name); nothing is left behind.
void write_ecotaxa_zip(const std::filesystem::path& zip_path,
                       const std::vector<zip_input>& crops, const std::string& tsv_name,
                       std::string_view tsv_text);

/// One entry of an archive, as stored in its central directory.
struct zip_entry_info {
  std::string name;
  std::uint64_t size = 0;             ///< uncompressed size, bytes
  std::uint64_t compressed_size = 0;  ///< bytes in the archive
  std::uint16_t compression = 0;      ///< method: 0 stored (ZIP_CM_STORE), 8 deflate
};

/// The entries of `zip_path` in archive order.
/// @throws io_error naming the archive if it cannot be opened as a zip.
std::vector<zip_entry_info> list_zip_entries(const std::filesystem::path& zip_path);

/// The content of entry `name` of `zip_path`.
/// @throws io_error naming the archive if it or the entry cannot be read.
std::string read_zip_entry(const std::filesystem::path& zip_path, const std::string& name);

} // namespace seg::io
