#include "actors/io/ecotaxa/ecotaxa_zip.hpp"

#include <unistd.h>

#include <zip.h>

#include "actors/io/atomic_file.hpp"
#include "actors/io/io_error.hpp"

namespace fs = std::filesystem;

namespace seg::io {

namespace {

std::string open_error_text(int code) {
  zip_error_t ze;
  zip_error_init_with_code(&ze, code);
  std::string text = zip_error_strerror(&ze);
  zip_error_fini(&ze);
  return text;
}

std::string archive_error_text(zip_t* za) {
  return zip_error_strerror(zip_get_error(za));
}

// Opens an archive for reading; closes it (discarding) on scope exit.
struct reader {
  zip_t* za = nullptr;

  explicit reader(const fs::path& path) {
    int code = 0;
    za = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (za == nullptr)
      throw io_error(path, "cannot open as a zip archive: " + open_error_text(code));
  }

  ~reader() {
    zip_discard(za);
  }

  reader(const reader&) = delete;
  reader& operator=(const reader&) = delete;
};

void add_entry(zip_t* za, const fs::path& zip_path, const std::string& name,
               zip_source_t* src) {
  if (src == nullptr)
    throw io_error(zip_path, "cannot create a source for entry " + name + ": "
                               + archive_error_text(za));
  zip_int64_t idx = zip_file_add(za, name.c_str(), src, ZIP_FL_ENC_UTF_8);
  if (idx < 0) {
    zip_source_free(src);
    throw io_error(zip_path, "cannot add entry " + name + ": " + archive_error_text(za));
  }
  if (zip_set_file_compression(za, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0) != 0)
    throw io_error(zip_path, "cannot store entry " + name + " uncompressed: "
                               + archive_error_text(za));
}

void check_entry_name(const fs::path& zip_path, const std::string& name) {
  if (name.empty() || name.find_first_of("/\\") != std::string::npos)
    throw io_error(zip_path, "invalid entry name '" + name + "' (must be a flat file name)");
}

} // namespace

void write_ecotaxa_zip(const fs::path& zip_path, const std::vector<zip_input>& crops,
                       const std::string& tsv_name, std::string_view tsv_text) {
  for (const auto& c : crops) {
    check_entry_name(zip_path, c.name);
    if (!c.file.empty()) {
      std::error_code ec;
      if (!fs::is_regular_file(c.file, ec))
        throw io_error(c.file, "crop file for " + zip_path.filename().string()
                                 + " is missing or not a regular file");
    }
  }
  check_entry_name(zip_path, tsv_name);
  const fs::path temp = temp_path_for(zip_path);
  int code = 0;
  zip_t* za = zip_open(temp.c_str(), ZIP_CREATE | ZIP_EXCL, &code);
  if (za == nullptr)
    throw io_error(zip_path, "cannot create temporary archive " + temp.filename().string()
                               + ": " + open_error_text(code));
  try {
    for (const auto& c : crops) {
      zip_source_t* src =
        c.file.empty() ? zip_source_buffer(za, c.bytes.data(), c.bytes.size(), 0)
                       : zip_source_file(za, c.file.c_str(), 0, -1);
      add_entry(za, zip_path, c.name, src);
    }
    add_entry(za, zip_path, tsv_name, zip_source_buffer(za, tsv_text.data(), tsv_text.size(), 0));
    // zip_close writes everything (reading file sources now) and frees za.
    if (zip_close(za) != 0)
      throw io_error(zip_path, "cannot write archive: " + archive_error_text(za));
    za = nullptr;
  } catch (...) {
    if (za != nullptr)
      zip_discard(za);
    ::unlink(temp.c_str());
    throw;
  }
  commit_temp_file(temp, zip_path);
}

std::vector<zip_entry_info> list_zip_entries(const fs::path& zip_path) {
  reader r(zip_path);
  const zip_int64_t n = zip_get_num_entries(r.za, 0);
  std::vector<zip_entry_info> out;
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(r.za, static_cast<zip_uint64_t>(i), 0, &st) != 0)
      throw io_error(zip_path, "cannot read entry " + std::to_string(i) + ": "
                                 + archive_error_text(r.za));
    zip_entry_info e;
    e.name = st.name != nullptr ? st.name : "";
    e.size = st.size;
    e.compressed_size = st.comp_size;
    e.compression = st.comp_method;
    out.push_back(std::move(e));
  }
  return out;
}

std::string read_zip_entry(const fs::path& zip_path, const std::string& name) {
  reader r(zip_path);
  zip_file_t* f = zip_fopen(r.za, name.c_str(), 0);
  if (f == nullptr)
    throw io_error(zip_path, "cannot open entry " + name + ": " + archive_error_text(r.za));
  std::string out;
  char buf[65536];
  for (;;) {
    zip_int64_t n = zip_fread(f, buf, sizeof buf);
    if (n < 0) {
      std::string err = zip_error_strerror(zip_file_get_error(f));
      zip_fclose(f);
      throw io_error(zip_path, "cannot read entry " + name + ": " + err);
    }
    if (n == 0)
      break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  // zip_fclose reports a CRC mismatch.
  int rc = zip_fclose(f);
  if (rc != 0)
    throw io_error(zip_path, "entry " + name + " is damaged: " + open_error_text(rc));
  return out;
}

} // namespace seg::io
