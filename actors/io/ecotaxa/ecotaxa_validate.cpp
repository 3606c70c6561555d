#include "actors/io/ecotaxa/ecotaxa_validate.hpp"

#include <cmath>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include <zip.h>

#include "actors/io/atomic_file.hpp"
#include "actors/io/io_error.hpp"

namespace fs = std::filesystem;

namespace seg::io {

namespace {

constexpr std::size_t max_text_length = 250;
constexpr std::size_t max_numeric_object_columns = 500;
constexpr std::size_t max_text_object_columns = 20;
constexpr std::size_t cells_reported_per_column = 5;

// Object columns the importer maps to fixed fields (not free columns).
const std::set<std::string> predefined_object_columns = {
  "object_id",        "object_lat",       "object_lon",       "object_date",
  "object_time",      "object_link",      "object_depth_min", "object_depth_max",
};

const char* const prefixes[] = {"object_", "img_", "acq_", "sample_", "process_"};

std::string lower(std::string s) {
  for (auto& c : s)
    c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

bool is_number(const std::string& raw) {
  auto s = trim(raw);
  if (s.empty())
    return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// A value strtod reads whole as inf, -inf or nan (also "1e999"): EcoTaxa
// stores [f] values as finite floats.
bool is_non_finite_number(const std::string& raw) {
  auto s = trim(raw);
  if (s.empty())
    return false;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && !std::isfinite(v);
}

std::string shown(const std::string& s) {
  return "'" + (s.size() > 60 ? s.substr(0, 57) + "..." : s) + "'";
}

bool is_image_magic(const std::string& head) {
  auto u = [&](std::size_t i) { return static_cast<unsigned char>(head[i]); };
  if (head.size() >= 8 && head.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0)
    return true;
  if (head.size() >= 3 && u(0) == 0xFF && u(1) == 0xD8 && u(2) == 0xFF)
    return true;
  return head.size() >= 6 && (head.compare(0, 6, "GIF87a") == 0 || head.compare(0, 6, "GIF89a") == 0);
}

// Collects per-cell problems: the first few per (rule, column), then a count.
class cell_problems {
public:
  void add(const std::string& rule, const std::string& column, std::string message) {
    auto& e = entries_[{rule, column}];
    if (e.shown.size() < cells_reported_per_column)
      e.shown.push_back(std::move(message));
    else
      ++e.more;
  }

  void flush(const std::string& tsv, std::vector<ecotaxa_problem>& out) {
    for (auto& [key, e] : entries_) {
      for (auto& m : e.shown)
        out.push_back({key.first, std::move(m)});
      if (e.more > 0)
        out.push_back({key.first, tsv + ": column " + shown(key.second) + ": "
                                    + std::to_string(e.more) + " more rows break this rule"});
    }
  }

private:
  struct entry {
    std::vector<std::string> shown;
    std::size_t more = 0;
  };
  std::map<std::pair<std::string, std::string>, entry> entries_;
};

std::string basename_of(const std::string& name) {
  auto slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

std::string folder_of(const std::string& name) {
  auto slash = name.rfind('/');
  return slash == std::string::npos ? std::string{} : name.substr(0, slash + 1);
}

bool ends_with_tsv(const std::string& name) {
  return name.size() >= 4 && lower(name.substr(name.size() - 4)) == ".tsv";
}

// Archive opened read-only; closed on scope exit.
struct archive {
  zip_t* za = nullptr;
  explicit archive(const fs::path& path) {
    int code = 0;
    za = zip_open(path.c_str(), ZIP_RDONLY, &code);
    if (za == nullptr) {
      zip_error_t ze;
      zip_error_init_with_code(&ze, code);
      std::string text = zip_error_strerror(&ze);
      zip_error_fini(&ze);
      throw io_error(path, "cannot open as a zip archive: " + text);
    }
  }
  ~archive() {
    zip_discard(za);
  }
  archive(const archive&) = delete;
  archive& operator=(const archive&) = delete;

  // Up to `limit` bytes of entry `index`; nullopt if it cannot be read.
  std::optional<std::string> read(zip_uint64_t index, zip_uint64_t limit) const {
    zip_file_t* f = zip_fopen_index(za, index, 0);
    if (f == nullptr)
      return std::nullopt;
    std::string out;
    char buf[65536];
    while (out.size() < limit) {
      auto want = std::min<zip_uint64_t>(sizeof buf, limit - out.size());
      auto n = zip_fread(f, buf, want);
      if (n < 0) {
        zip_fclose(f);
        return std::nullopt;
      }
      if (n == 0)
        break;
      out.append(buf, std::size_t(n));
    }
    zip_fclose(f);
    return out;
  }
};

} // namespace

std::string to_string(const ecotaxa_problem& p) {
  return "[" + p.rule + "] " + p.message;
}

bool is_ecotaxa_tsv_name(std::string_view name) {
  return name.size() > 12 && starts_with(name, "ecotaxa_")
         && name.substr(name.size() - 4) == ".tsv";
}

std::vector<std::vector<std::string>> parse_tsv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool in_quotes = false;
  bool cell_started = false; // something (even "") was read for this cell
  std::size_t i = 0;
  auto end_cell = [&] {
    row.push_back(std::move(cell));
    cell.clear();
    cell_started = false;
  };
  auto end_row = [&] {
    end_cell();
    rows.push_back(std::move(row));
    row.clear();
  };
  while (i < text.size()) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          i += 2;
          continue;
        }
        in_quotes = false;
        ++i;
        continue;
      }
      cell += c;
      ++i;
      continue;
    }
    if (c == '"' && !cell_started && cell.empty()) {
      in_quotes = true;
      cell_started = true;
      ++i;
      continue;
    }
    if (c == '\t') {
      end_cell();
      ++i;
      continue;
    }
    if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      end_row();
      i += c == '\r' ? 2 : 1;
      continue;
    }
    cell += c;
    cell_started = true;
    ++i;
  }
  if (!cell.empty() || cell_started || !row.empty())
    end_row();
  return rows;
}

std::vector<ecotaxa_problem> validate_ecotaxa_tsv(const std::string& tsv_name,
                                                  std::string_view text,
                                                  const image_reader& images) {
  std::vector<ecotaxa_problem> out;
  const std::string& tsv = tsv_name;
  if (!is_ecotaxa_tsv_name(basename_of(tsv_name)))
    out.push_back({"tsv-name", tsv + ": the importer reads only files named ecotaxa_*.tsv "
                                     "(lowercase)"});
  auto rows = parse_tsv(text);
  if (rows.size() < 2) {
    out.push_back({"header", tsv + ": needs a row of column names and a row of [t]/[f] "
                                   "types, found " + std::to_string(rows.size()) + " row(s)"});
    return out;
  }
  const auto& names = rows[0];
  const auto& types = rows[1];
  const std::size_t n = names.size();
  std::vector<std::string> clean(n);
  for (std::size_t c = 0; c < n; ++c)
    clean[c] = lower(trim(names[c]));

  // Types row.
  if (types.size() != n)
    out.push_back({"type-row", tsv + ": the types row has " + std::to_string(types.size())
                                 + " cells for " + std::to_string(n) + " columns"});
  for (std::size_t c = 0; c < std::min(n, types.size()); ++c)
    if (types[c] != "[t]" && types[c] != "[f]")
      out.push_back({"type-row", tsv + ": column " + shown(names[c]) + " has type "
                                   + shown(types[c]) + ", not [t] or [f]"});
  auto type_of = [&](std::size_t c) { return c < types.size() ? types[c] : std::string{}; };

  // Column names.
  std::map<std::string, std::size_t> seen;
  std::set<std::string> used_prefixes;
  std::size_t free_numeric = 0, free_text = 0;
  for (std::size_t c = 0; c < n; ++c) {
    const auto& raw = names[c];
    auto name = trim(raw);
    bool ok = false;
    for (auto* p : prefixes)
      if (starts_with(name, p) && name.size() > std::string_view(p).size()) {
        ok = true;
        used_prefixes.insert(std::string(p));
      }
    if (!ok)
      out.push_back({"column-prefix", tsv + ": column " + std::to_string(c + 1) + " "
                                        + shown(raw)
                                        + " does not start with a lowercase object_, img_, "
                                          "acq_, sample_ or process_"});
    auto [it, inserted] = seen.emplace(clean[c], c);
    if (!inserted)
      out.push_back({"column-unique", tsv + ": columns " + std::to_string(it->second + 1)
                                        + " and " + std::to_string(c + 1) + " are both "
                                        + shown(clean[c]) + " (names are compared lowercased)"});
    else if (starts_with(clean[c], "object_")
             && predefined_object_columns.count(clean[c]) == 0
             && !starts_with(clean[c], "object_annotation_")) {
      if (type_of(c) == "[f]")
        ++free_numeric;
      else if (type_of(c) == "[t]")
        ++free_text;
    }
  }
  for (auto [prefix, id] : {std::pair<const char*, const char*>{"sample_", "sample_id"},
                            {"acq_", "acq_id"},
                            {"process_", "process_id"}})
    if (used_prefixes.count(prefix) > 0 && seen.count(id) == 0)
      out.push_back({"parent-id", tsv + ": there are " + std::string(prefix)
                                    + " columns but no " + id + " column"});
  if (free_numeric > max_numeric_object_columns)
    out.push_back({"object-columns", tsv + ": " + std::to_string(free_numeric)
                                       + " numeric ([f]) object_ columns, the importer takes "
                                         "at most " + std::to_string(max_numeric_object_columns)});
  if (free_text > max_text_object_columns)
    out.push_back({"object-columns", tsv + ": " + std::to_string(free_text)
                                       + " text ([t]) object_ columns, the importer takes at "
                                         "most " + std::to_string(max_text_object_columns)});

  auto column = [&](const char* name) -> std::optional<std::size_t> {
    auto it = seen.find(name);
    return it == seen.end() ? std::nullopt : std::optional<std::size_t>(it->second);
  };
  auto id_col = column("object_id");
  auto img_col = column("img_file_name");
  if (!id_col)
    out.push_back({"object-id", tsv + ": no object_id column"});
  if (!img_col)
    out.push_back({"image", tsv + ": no img_file_name column"});

  // Rows.
  cell_problems cells;
  std::map<std::string, std::size_t> ids;
  for (std::size_t r = 2; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const std::string where = tsv + ": row " + std::to_string(r - 1);
    if (row.size() != n)
      cells.add("row-cells", "", where + " has " + std::to_string(row.size())
                                   + " cells for " + std::to_string(n) + " columns");
    for (std::size_t c = 0; c < std::min(n, row.size()); ++c) {
      const auto& v = row[c];
      if (v.size() > max_text_length)
        cells.add("text-length", names[c], where + ", column " + shown(names[c]) + ": "
                                             + std::to_string(v.size())
                                             + " characters, the importer keeps at most "
                                             + std::to_string(max_text_length));
      if (type_of(c) == "[f]" && !trim(v).empty() && !is_number(v)
          && (starts_with(clean[c], "object_") || starts_with(clean[c], "img_")))
        cells.add("numeric-value", names[c], where + ", column " + shown(names[c])
                                               + ": " + shown(v) + " is not a number");
      if (type_of(c) == "[f]" && is_non_finite_number(v))
        cells.add("finite-value", names[c], where + ", column " + shown(names[c]) + ": "
                                              + shown(v) + " is not a finite number");
    }
    if (id_col && *id_col < row.size()) {
      auto id = trim(row[*id_col]);
      if (id.empty()) {
        cells.add("object-id", "object_id", where + ": empty object_id");
      } else {
        auto [it, inserted] = ids.emplace(id, r - 1);
        if (!inserted)
          cells.add("object-id", "object_id", where + ": object_id " + shown(id)
                                                + " already used in row "
                                                + std::to_string(it->second));
      }
    }
    if (img_col && *img_col < row.size()) {
      auto name = trim(row[*img_col]);
      if (name.empty()) {
        cells.add("image", "img_file_name", where + ": empty img_file_name");
      } else {
        auto head = images(name);
        if (!head)
          cells.add("image", "img_file_name", where + ": image " + shown(name)
                                                + " is missing");
        else if (!is_image_magic(*head))
          cells.add("image", "img_file_name", where + ": image " + shown(name)
                                                + " is not a PNG, JPEG or GIF");
      }
    }
  }
  cells.flush(tsv, out);
  return out;
}

std::vector<ecotaxa_problem> validate_ecotaxa_zip(const fs::path& zip) {
  archive a(zip);
  std::map<std::string, zip_uint64_t> entries;
  auto count = zip_get_num_entries(a.za, 0);
  for (zip_int64_t i = 0; i < count; ++i)
    if (const char* name = zip_get_name(a.za, zip_uint64_t(i), 0))
      entries.emplace(name, zip_uint64_t(i));
  std::vector<ecotaxa_problem> out;
  std::size_t tsvs = 0;
  const std::string label = zip.string();
  image_reader images = [&](const std::string& name) -> std::optional<std::string> {
    auto it = entries.find(name);
    if (it == entries.end())
      return std::nullopt;
    return a.read(it->second, 16);
  };
  for (auto& [name, index] : entries) {
    if (!ends_with_tsv(name))
      continue;
    if (!is_ecotaxa_tsv_name(basename_of(name))) {
      out.push_back({"tsv-name", label + ": " + name
                                   + " is not named ecotaxa_*.tsv (lowercase): the importer "
                                     "ignores it"});
      continue;
    }
    ++tsvs;
    auto text = a.read(index, ~zip_uint64_t(0));
    if (!text) {
      out.push_back({"header", label + ": " + name + " cannot be read"});
      continue;
    }
    const std::string folder = folder_of(name);
    for (auto& p : validate_ecotaxa_tsv(label + "/" + name, *text,
                                        [&](const std::string& img) {
                                          return images(folder + img);
                                        }))
      out.push_back(std::move(p));
  }
  if (tsvs == 0)
    out.push_back({"tsv-name", label + ": no ecotaxa_*.tsv in the archive"});
  return out;
}

std::vector<ecotaxa_problem> validate_ecotaxa_tsv_file(const fs::path& tsv) {
  auto text = read_file(tsv);
  auto dir = tsv.parent_path();
  image_reader images = [&](const std::string& name) -> std::optional<std::string> {
    std::error_code ec;
    auto path = dir / name;
    if (!fs::is_regular_file(path, ec))
      return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    std::string head(16, '\0');
    in.read(head.data(), std::streamsize(head.size()));
    head.resize(std::size_t(in.gcount()));
    return head;
  };
  return validate_ecotaxa_tsv(tsv.string(), text, images);
}

} // namespace seg::io
