#include "actors/io/acquisition.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <system_error>

#include <nlohmann/json.hpp>

#include "actors/io/atomic_file.hpp"
#include "actors/io/io_error.hpp"
#include "actors/io/json_depth.hpp"
#include "actors/io/python_format.hpp"

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace seg::io {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Absolute and lexically normal, without a trailing separator; symlinks are
// kept as the user named them.
fs::path normal_absolute(const fs::path& p) {
  fs::path a = fs::absolute(p).lexically_normal();
  if (a.filename().empty() && a.has_relative_path())
    a = a.parent_path();
  return a;
}

void walk(const fs::path& dir, std::vector<fs::path>& found,
          std::vector<std::string>& problems) {
  std::error_code ec;
  if (fs::exists(dir / "metadata.json", ec))
    found.push_back(dir);
  fs::directory_iterator it(dir, ec);
  if (ec) {
    problems.push_back(dir.string() + ": cannot list: " + ec.message());
    return;
  }
  std::vector<fs::path> subdirs;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec)
      break;
    std::error_code sec;
    // symlink_status: directory symlinks are not followed, as os.walk.
    if (fs::is_directory(it->symlink_status(sec)))
      subdirs.push_back(it->path());
  }
  if (ec)
    problems.push_back(dir.string() + ": cannot list: " + ec.message());
  for (const auto& sub : subdirs)
    walk(sub, found, problems);
}

const char* json_type_name(const ordered_json& v) {
  return v.type_name();
}

} // namespace

std::string frame_endings_text() {
  std::string text;
  for (std::size_t i = 0; i < frame_name_endings.size(); ++i) {
    if (i > 0)
      text += i + 1 == frame_name_endings.size() ? " or " : ", ";
    text += frame_name_endings[i];
  }
  return text;
}

bool is_frame_name(std::string_view name) {
  for (std::string_view end : frame_name_endings)
    if (ends_with(name, end))
      return true;
  return false;
}

std::vector<std::string> list_frames(const fs::path& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec)
    throw io_error(dir, "cannot list: " + ec.message());
  std::vector<std::string> frames;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec)
      throw io_error(dir, "cannot list: " + ec.message());
    std::string name = it->path().filename().string();
    std::error_code sec;
    if (is_frame_name(name) && it->is_regular_file(sec))
      frames.push_back(std::move(name));
  }
  if (ec)
    throw io_error(dir, "cannot list: " + ec.message());
  std::sort(frames.begin(), frames.end());
  return frames;
}

acquisition locate_acquisition(const fs::path& dir) {
  acquisition acq;
  acq.dir = normal_absolute(dir);
  std::error_code ec;
  auto st = fs::status(acq.dir, ec);
  if (!fs::exists(st))
    throw io_error(acq.dir, "acquisition folder does not exist");
  if (!fs::is_directory(st))
    throw io_error(acq.dir, "acquisition path is not a directory");
  std::vector<fs::path> parts(acq.dir.begin(), acq.dir.end());
  // The nearest "img" component strictly above the folder itself.
  std::size_t img = parts.size();
  for (std::size_t k = parts.size() - 1; k-- > 0;) {
    if (parts[k] == "img") {
      img = k;
      break;
    }
  }
  if (img == parts.size())
    throw io_error(acq.dir, "acquisition folder is not under an img/ folder (expected "
                            "<data root>/img/<date>/<sample>/<acquisition>)");
  for (std::size_t k = 0; k < img; ++k)
    acq.data_root /= parts[k];
  for (std::size_t k = img + 1; k < parts.size(); ++k)
    acq.rel /= parts[k];
  return acq;
}

acquisition open_acquisition(const fs::path& dir) {
  auto acq = locate_acquisition(dir);
  acq.frames = list_frames(acq.dir);
  if (acq.frames.empty())
    throw io_error(acq.dir, "no frames (file names ending with " + frame_endings_text() + ")");
  return acq;
}

discovery find_acquisition_dirs(const std::vector<fs::path>& inputs, bool recursive) {
  discovery out;
  std::set<fs::path> seen;
  for (const auto& input : inputs) {
    const fs::path p = normal_absolute(input);
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (!fs::exists(st)) {
      out.problems.push_back(input.string() + ": does not exist");
      continue;
    }
    if (!fs::is_directory(st)) {
      out.problems.push_back(input.string() + ": is not a directory");
      continue;
    }
    std::vector<fs::path> found;
    if (recursive) {
      walk(p, found, out.problems);
      std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
        return a.native() < b.native();
      });
      if (found.empty())
        out.problems.push_back(input.string()
                               + ": no acquisition found (no metadata.json at or below it)");
    } else if (fs::exists(p / "metadata.json", ec)) {
      found.push_back(p);
    } else {
      out.problems.push_back(input.string()
                             + ": no metadata.json (not an acquisition folder)");
    }
    for (auto& f : found)
      if (seen.insert(f).second)
        out.dirs.push_back(std::move(f));
  }
  return out;
}

namespace {

// Plausible ranges: a number outside them is a typo or a unit mix-up that
// would give absurd (even infinite) sizes, so it fails the acquisition.
constexpr double min_um_per_px = 0.01;
constexpr double max_um_per_px = 1000;
constexpr double max_resolution_side = 65535;

// acq_camera_resolution "WxH" or [W, H]: each side 1..65535 px. A string in
// another form is kept as it is (the reference exports it unchanged).
void check_plausible_resolution(const fs::path& file, const ordered_json& res) {
  std::vector<double> sides;
  if (res.is_array()) {
    for (auto& side : res) {
      if (!side.is_number() || side.is_boolean())
        throw io_error(file, "acq_camera_resolution: sides must be numbers (found "
                               + res.dump() + ")");
      sides.push_back(side.get<double>());
    }
  } else {
    auto& text = res.get_ref<const std::string&>();
    auto x = text.find('x');
    if (x == std::string::npos)
      return;
    double w = 0;
    double h = 0;
    auto [wend, wec] = std::from_chars(text.data(), text.data() + x, w);
    auto [hend, hec] = std::from_chars(text.data() + x + 1, text.data() + text.size(), h);
    if (wec != std::errc() || hec != std::errc() || wend != text.data() + x
        || hend != text.data() + text.size())
      return;
    sides = {w, h};
  }
  for (double side : sides)
    if (!(side >= 1 && side <= max_resolution_side) || side != std::floor(side))
      throw io_error(file, "acq_camera_resolution " + res.dump()
                             + " is not plausible: each side must be a whole number of "
                               "pixels from 1 to 65535");
}

// process_pixel, when it is a valid size (a finite number > 0): 0.01..1000
// µm per pixel. An invalid one (not a number, <= 0) is left to
// parse_process_pixel: a warning and sizes in pixels, or an error with
// segmentation.require_process_pixel.
void check_plausible_pixel_size(const fs::path& file, const ordered_json& doc) {
  auto px = parse_process_pixel(doc);
  if (!px.um_per_px)
    return;
  if (!(*px.um_per_px >= min_um_per_px && *px.um_per_px <= max_um_per_px))
    throw io_error(file, "process_pixel " + doc["process_pixel"].dump()
                           + " is not plausible: it must be from 0.01 to 1000 µm per pixel");
}

} // namespace

ordered_json read_metadata(const fs::path& file) {
  const std::string text = read_file(file);
  ordered_json doc;
  if (!json_depth_within(text))
    throw io_error(file, "invalid JSON: " + json_too_deep());
  try {
    doc = ordered_json::parse(text);
  } catch (const ordered_json::exception& e) { // parse_error, or out_of_range for 1E400
    throw io_error(file, std::string("invalid JSON: ") + e.what());
  }
  if (!doc.is_object())
    throw io_error(file, std::string("not a JSON object (found ") + json_type_name(doc)
                           + ")");
  std::string missing;
  for (const char* key : required_metadata_keys) {
    if (!doc.contains(key))
      missing += (missing.empty() ? "" : ", ") + std::string(key);
  }
  if (!missing.empty())
    throw io_error(file, "missing required key(s): " + missing);
  for (const char* key : {"sample_project", "sample_id", "acq_id"}) {
    if (!doc[key].is_string())
      throw io_error(file, std::string(key) + " must be a string (found "
                             + json_type_name(doc[key]) + ")");
  }
  const auto& res = doc["acq_camera_resolution"];
  if (!res.is_string() && !(res.is_array() && res.size() == 2))
    throw io_error(file, std::string("acq_camera_resolution must be a string or a "
                                     "[width, height] list (found ")
                           + res.dump() + ")");
  check_plausible_resolution(file, res);
  check_plausible_pixel_size(file, doc);
  return doc;
}

ordered_json filter_metadata(const ordered_json& metadata) {
  ordered_json out = ordered_json::object();
  for (const auto& [key, value] : metadata.items()) {
    if (starts_with(key, "acq") || starts_with(key, "sample") || starts_with(key, "object")
        || starts_with(key, "process"))
      out[key] = value;
  }
  auto it = out.find("acq_camera_resolution");
  if (it != out.end() && it->is_array() && it->size() >= 2)
    *it = python_str_json((*it)[0]) + "x" + python_str_json((*it)[1]);
  return out;
}

pixel_size parse_process_pixel(const ordered_json& metadata) {
  pixel_size out;
  auto it = metadata.find("process_pixel");
  if (it == metadata.end()) {
    out.reason = "process_pixel is not in metadata.json";
    return out;
  }
  double v = 0;
  if (it->is_boolean() || !(it->is_number() || it->is_string())) {
    out.reason = "process_pixel is not a number (" + it->dump() + ")";
    return out;
  }
  if (it->is_number()) {
    v = it->get<double>();
  } else {
    std::string_view s = it->get_ref<const std::string&>();
    const char* ws = " \t\n\r\f\v";
    const auto b = s.find_first_not_of(ws);
    const auto e = s.find_last_not_of(ws);
    s = b == std::string_view::npos ? std::string_view{} : s.substr(b, e - b + 1);
    if (!s.empty() && s[0] == '+')
      s.remove_prefix(1);
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
      out.reason = "process_pixel is not a number (" + it->dump() + ")";
      return out;
    }
  }
  if (!std::isfinite(v) || v <= 0) {
    out.reason = "process_pixel must be a finite number > 0 (" + it->dump() + ")";
    return out;
  }
  out.um_per_px = v;
  return out;
}

std::string safe_file_component(std::string_view id, std::string_view what) {
  const fs::path label{std::string(what)};
  const std::string quoted = python_repr_str(id);
  if (id.empty())
    throw io_error(label, "is empty and cannot be used in a file name");
  if (id.size() > 200)
    throw io_error(label, quoted.substr(0, 40) + "... is longer than 200 bytes, too long "
                                                 "for a file name");
  if (id[0] == '.')
    throw io_error(label, quoted + " starts with '.', refused in a file name");
  std::string out(id);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\')
      throw io_error(label, quoted + " contains a path separator, refused in a file name");
    if (u < 0x20 || u == 0x7F)
      throw io_error(label, quoted + " contains a control character, refused in a file "
                                     "name");
    if (c == ' ')
      c = '_';
  }
  return out;
}

} // namespace seg::io
