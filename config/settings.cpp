#include "config/settings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <variant>

#include <toml++/toml.h>

extern char** environ;

namespace seg::config {

namespace {

using raw_value = std::variant<bool, std::int64_t, double, std::string>;

enum class kind { boolean, integer, real, choice };

struct spec {
  key_doc doc;
  kind type;
  double min = 0;
  double max = 0;
  std::vector<std::string> choices;
  std::function<void(settings&, const raw_value&)> assign;
};

std::int64_t as_int(const raw_value& v) {
  return std::get<std::int64_t>(v);
}

double as_real(const raw_value& v) {
  return std::get<double>(v);
}

const std::string& as_text(const raw_value& v) {
  return std::get<std::string>(v);
}

std::string fmt_num(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

spec int_key(std::string key, std::string unit, std::int64_t min, std::int64_t max,
             std::string def, std::string def_pk, std::string meaning,
             std::function<void(settings&, std::int64_t)> set) {
  spec s{{std::move(key), "int", std::move(unit),
          "[" + std::to_string(min) + ", " + std::to_string(max) + "]", def,
          def_pk.empty() ? def : def_pk, std::move(meaning)},
         kind::integer, double(min), double(max), {},
         [set](settings& st, const raw_value& v) { set(st, as_int(v)); }};
  return s;
}

spec real_key(std::string key, std::string unit, double min, double max, std::string def,
              std::string def_pk, std::string meaning,
              std::function<void(settings&, double)> set) {
  spec s{{std::move(key), "float", std::move(unit),
          "[" + fmt_num(min) + ", " + fmt_num(max) + "]", def,
          def_pk.empty() ? def : def_pk, std::move(meaning)},
         kind::real, min, max, {},
         [set](settings& st, const raw_value& v) { set(st, as_real(v)); }};
  return s;
}

spec bool_key(std::string key, std::string def, std::string def_pk, std::string meaning,
              std::function<void(settings&, bool)> set) {
  spec s{{std::move(key), "bool", "", "true, false", def, def_pk.empty() ? def : def_pk,
          std::move(meaning)},
         kind::boolean, 0, 0, {},
         [set](settings& st, const raw_value& v) { set(st, std::get<bool>(v)); }};
  return s;
}

spec choice_key(std::string key, std::vector<std::string> choices, std::string def,
                std::string def_pk, std::string meaning,
                std::function<void(settings&, const std::string&)> set) {
  std::string range;
  for (auto& c : choices)
    range += (range.empty() ? "" : ", ") + c;
  spec s{{std::move(key), "string", "", range, def, def_pk.empty() ? def : def_pk,
          std::move(meaning)},
         kind::choice, 0, 0, std::move(choices),
         [set](settings& st, const raw_value& v) { set(st, as_text(v)); }};
  return s;
}

// The schema: one entry per key, in the order of config/segflow.toml. The
// planktoscope column is filled only where that profile differs.
const std::vector<spec>& schema() {
  static const std::vector<spec> table = {
    choice_key("profile", {"default", "planktoscope"}, "default", "planktoscope",
               "default fixes the reference's known bugs (µm units, unique object "
               "ids); planktoscope reproduces its numbers exactly",
               [](settings& s, const std::string& v) {
                 s.run_profile = v == "planktoscope" ? profile::planktoscope
                                                     : profile::standard;
               }),
    real_key("segmentation.min_esd", "px or µm (see size_units)", 0, 1e6, "20", "",
             "objects whose equivalent diameter sqrt(4*area/pi), holes excluded, is "
             "below this are dropped",
             [](settings& s, double v) { s.segmentation.min_esd = v; }),
    choice_key("segmentation.size_units", {"um", "px"}, "um", "px",
               "unit of min_esd and of exported lengths/areas; um needs a valid "
               "process_pixel in metadata.json, else pixels are used with a warning",
               [](settings& s, const std::string& v) {
                 s.segmentation.size_units = v == "px" ? units::pixels
                                                       : units::micrometres;
               }),
    bool_key("segmentation.require_process_pixel", "false", "",
             "with size_units = um, a missing, zero, negative or non-numeric "
             "process_pixel fails the job instead of falling back to pixels",
             [](settings& s, bool v) { s.segmentation.require_process_pixel = v; }),
    bool_key("segmentation.remove_previous_mask", "false", "",
             "subtract the previous frame's threshold mask (per job, never across "
             "jobs); with 2+ workers each frame also decodes its predecessor",
             [](settings& s, bool v) { s.segmentation.remove_previous_mask = v; }),
    int_key("segmentation.flat_frames", "frames", 1, 1000, "10", "",
            "frames asked for the flat-field median; an even count uses one less, "
            "as the reference does",
            [](settings& s, std::int64_t v) { s.segmentation.flat_frames = int(v); }),
    bool_key("segmentation.flat_recalculate", "false", "true",
             "recompute the flat for the next frames when a frame has more than 20 "
             "objects above the running mean (the reference's heuristic, in frame "
             "order; the frame that fires it is not redone)",
             [](settings& s, bool v) { s.segmentation.flat_recalculate = v; }),
    int_key("segmentation.crop_margin", "px", 0, 1000, "10", "",
            "margin added around each object's bbox in its crop",
            [](settings& s, std::int64_t v) { s.segmentation.crop_margin = int(v); }),
    int_key("segmentation.crop_jpeg_quality", "", 1, 100, "75", "",
            "JPEG quality of the crops",
            [](settings& s, std::int64_t v) {
              s.segmentation.crop_jpeg_quality = int(v);
            }),
    int_key("pipeline.workers", "workers", 0, 256, "0", "",
            "segment workers; 0 = cores - 1, at least 1",
            [](settings& s, std::int64_t v) { s.pipeline.workers = int(v); }),
    int_key("pipeline.reads_in_flight", "frames", 1, 64, "2", "",
            "frames read ahead of the workers, per worker",
            [](settings& s, std::int64_t v) { s.pipeline.reads_in_flight = int(v); }),
    real_key("pipeline.frame_timeout_s", "s", 1, 86400, "120", "",
             "a frame still running after this long fails",
             [](settings& s, double v) { s.pipeline.frame_timeout_s = v; }),
    int_key("pipeline.max_frame_pixels", "pixels", 1, 4'000'000'000, "100000000", "",
            "frames with more pixels are refused from their header, unread",
            [](settings& s, std::int64_t v) { s.pipeline.max_frame_pixels = v; }),
    int_key("pipeline.opencv_threads", "threads", 1, 256, "1", "",
            "OpenCV's own threads per worker",
            [](settings& s, std::int64_t v) { s.pipeline.opencv_threads = int(v); }),
    bool_key("pipeline.follow", "false", "",
             "follow an acquisition still being written: segment each frame once "
             "integrity.check lists it; the job ends when the imager says Done (MQTT) "
             "or after follow_idle_s without a new frame",
             [](settings& s, bool v) { s.pipeline.follow = v; }),
    real_key("pipeline.follow_idle_s", "s", 0.1, 86400, "300", "",
             "a followed acquisition without a new frame for this long is complete",
             [](settings& s, double v) { s.pipeline.follow_idle_s = v; }),
    bool_key("pipeline.decode_once", "true", "",
             "segment the flat field's frames from the shared memory they were decoded "
             "into for the flat instead of decoding them again (run-wide, read at "
             "start; off only to measure what it saves)",
             [](settings& s, bool v) { s.pipeline.decode_once = v; }),
    int_key("pipeline.decode_band_rows", "rows", 0, 4096, "16", "",
            "correct while decoding: each frame is decoded this many rows at a time and "
            "each band corrected, made gray and counted while in cache; 0 = decode the "
            "whole frame, then correct it (run-wide, read at start; same output either way)",
            [](settings& s, std::int64_t v) { s.pipeline.decode_band_rows = int(v); }),
    int_key("tiling.max_frame_pixels", "pixels", 0, 4'000'000'000, "50000000", "",
            "frames with more pixels are decoded once into shared memory and segmented "
            "tile by tile (same objects as untiled); 0 = tile every frame",
            [](settings& s, std::int64_t v) { s.tiling.max_frame_pixels = v; }),
    int_key("tiling.tile_width", "px", 64, 65536, "4096", "",
            "core width of a tile (each tile also reads a halo as wide as the "
            "morphology's reach and the crop margin)",
            [](settings& s, std::int64_t v) { s.tiling.tile_width = int(v); }),
    int_key("tiling.tile_height", "px", 64, 65536, "4096", "",
            "core height of a tile",
            [](settings& s, std::int64_t v) { s.tiling.tile_height = int(v); }),
    int_key("tiling.frames_in_flight", "frames", 1, 16, "2", "",
            "tiled frames decoded and not yet stitched: the reader holds the next one "
            "back (backpressure) while this many are",
            [](settings& s, std::int64_t v) { s.tiling.frames_in_flight = int(v); }),
    real_key("tiling.frames_memory_mb", "MB", 0, 1'000'000, "1024", "",
             "shared memory for the tiled frames in flight: fewer than frames_in_flight "
             "are read ahead when they would need more (one always is); 0 = no bound",
             [](settings& s, double v) { s.tiling.frames_memory_mb = v; }),
    bool_key("export.ecotaxa", "true", "",
             "write export/ecotaxa/ecotaxa_<acq_id>.zip when the job is done",
             [](settings& s, bool v) { s.exports.ecotaxa = v; }),
    choice_key("export.process_id", {}, "", "",
               "process_id column (prefixed with sample_project and sample_id); "
               "empty = the run's uuid",
               [](settings& s, const std::string& v) { s.exports.process_id = v; }),
    choice_key("export.object_ids", {"unique", "per_frame"}, "unique", "per_frame",
               "unique prefixes ids with sample_id and acq_id; per_frame is the "
               "reference's <frame stem>_<i>",
               [](settings& s, const std::string& v) {
                 s.exports.ids = v == "per_frame" ? object_ids::per_frame
                                                  : object_ids::unique;
               }),
    bool_key("export.report", "true", "",
             "write objects/<rel>/report.html and the index objects/report.html when a "
             "job ends",
             [](settings& s, bool v) { s.exports.report = v; }),
    int_key("export.commit_frames", "frames", 1, 256, "8", "",
            "group commit: the frames segmented within commit_window_ms of the first "
            "are committed with one file-system flush, at most this many; 1 = each "
            "frame alone (run-wide, read at start)",
            [](settings& s, std::int64_t v) { s.exports.commit_frames = int(v); }),
    real_key("export.commit_window_ms", "ms", 0, 10000, "50", "",
             "group commit: how long a frame waits for others to share its flush",
             [](settings& s, double v) { s.exports.commit_window_ms = v; }),
    real_key("journal.keep_days", "days", 0, 36500, "7", "",
             "operations of the journal that are over (not stuck) and older than "
             "this are removed when segment or serve starts",
             [](settings& s, double v) { s.journal.keep_days = v; }),
    int_key("journal.keep_max", "operations", 0, 10'000'000, "1000", "",
            "at most this many operations that are over are kept (the newest)",
            [](settings& s, std::int64_t v) { s.journal.keep_max = v; }),
    choice_key("log.level", {"trace", "debug", "info", "warn", "error", "off"}, "info",
               "", "log level on stderr",
               [](settings& s, const std::string& v) { s.log.level = v; }),
    bool_key("log.json", "false", "", "log JSON lines instead of text",
             [](settings& s, bool v) { s.log.json = v; }),
  };
  return table;
}

const spec* find_spec(const std::string& key) {
  for (auto& s : schema())
    if (s.doc.key == key)
      return &s;
  return nullptr;
}

[[noreturn]] void fail(const std::string& origin, const std::string& key,
                       const std::string& what) {
  throw config_error(origin + ": key '" + key + "': " + what);
}

// Checks type and range, then assigns.
void apply(settings& st, const spec& sp, raw_value v, const std::string& origin) {
  const auto& key = sp.doc.key;
  switch (sp.type) {
    case kind::boolean:
      if (!std::holds_alternative<bool>(v))
        fail(origin, key, "expects true or false");
      break;
    case kind::integer: {
      if (!std::holds_alternative<std::int64_t>(v))
        fail(origin, key, "expects an integer");
      auto x = as_int(v);
      if (double(x) < sp.min || double(x) > sp.max)
        fail(origin, key, std::to_string(x) + " is out of range " + sp.doc.range);
      break;
    }
    case kind::real: {
      if (std::holds_alternative<std::int64_t>(v))
        v = double(as_int(v));
      if (!std::holds_alternative<double>(v))
        fail(origin, key, "expects a number");
      auto x = as_real(v);
      if (!std::isfinite(x) || x < sp.min || x > sp.max)
        fail(origin, key, fmt_num(x) + " is out of range " + sp.doc.range);
      break;
    }
    case kind::choice: {
      if (!std::holds_alternative<std::string>(v))
        fail(origin, key, "expects a string");
      auto& x = as_text(v);
      if (!sp.choices.empty()
          && std::find(sp.choices.begin(), sp.choices.end(), x) == sp.choices.end())
        fail(origin, key, "'" + x + "' is not one of " + sp.doc.range);
      break;
    }
  }
  sp.assign(st, v);
}

// Text from the environment or the command line, typed by the key's kind.
raw_value parse_text(const spec& sp, const std::string& text, const std::string& origin) {
  switch (sp.type) {
    case kind::boolean: {
      std::string t = text;
      std::transform(t.begin(), t.end(), t.begin(), ::tolower);
      if (t == "true" || t == "1" || t == "yes" || t == "on")
        return true;
      if (t == "false" || t == "0" || t == "no" || t == "off")
        return false;
      fail(origin, sp.doc.key, "expects true or false, got '" + text + "'");
    }
    case kind::integer: {
      std::int64_t x = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
      if (ec != std::errc{} || end != text.data() + text.size())
        fail(origin, sp.doc.key, "expects an integer, got '" + text + "'");
      return x;
    }
    case kind::real: {
      char* end = nullptr;
      double x = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size())
        fail(origin, sp.doc.key, "expects a number, got '" + text + "'");
      return x;
    }
    case kind::choice:
      return text;
  }
  return text;
}

raw_value from_node(const spec& sp, const toml::node& node, const std::string& origin) {
  if (auto b = node.as_boolean())
    return b->get();
  if (auto i = node.as_integer())
    return i->get();
  if (auto f = node.as_floating_point())
    return f->get();
  if (auto s = node.as_string())
    return s->get();
  fail(origin, sp.doc.key, "has an unsupported value type (tables and arrays are not "
                           "settings)");
}

std::string env_name(const std::string& key) {
  std::string name = "SEGFLOW_";
  for (char c : key)
    name += c == '.' ? '_' : char(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

// Applies every value of a TOML table, rejecting unknown keys.
void apply_file(settings& st, const toml::table& root, const std::string& file,
                bool profile_only) {
  for (auto& [k, node] : root) {
    std::string top{k.str()};
    if (auto sub = node.as_table()) {
      for (auto& [k2, node2] : *sub) {
        std::string key = top + "." + std::string{k2.str()};
        auto sp = find_spec(key);
        if (sp == nullptr)
          throw config_error(file + ": unknown key '" + key + "'");
        if (!profile_only)
          apply(st, *sp, from_node(*sp, node2, file), file);
      }
      continue;
    }
    auto sp = find_spec(top);
    if (sp == nullptr || top.find('.') != std::string::npos)
      throw config_error(file + ": unknown key '" + top + "'");
    bool is_profile = top == "profile";
    if (is_profile == profile_only)
      apply(st, *sp, from_node(*sp, node, file), file);
  }
}

void apply_defaults(settings& st, profile p) {
  for (auto& sp : schema()) {
    if (sp.doc.key == "profile")
      continue;
    const auto& text = p == profile::planktoscope ? sp.doc.default_planktoscope
                                                  : sp.doc.default_standard;
    apply(st, sp, parse_text(sp, text, "built-in default"), "built-in default");
  }
}

} // namespace

settings load(const sources& src) {
  settings st;
  toml::table file_table;
  if (!src.file.empty()) {
    try {
      file_table = toml::parse_file(src.file);
    } catch (const toml::parse_error& err) {
      std::ostringstream os;
      os << src.file << ": " << err.description();
      if (err.source().begin.line > 0)
        os << " (line " << err.source().begin.line << ")";
      throw config_error(os.str());
    }
  }
  // The profile decides the defaults, so find it first (file < env < CLI).
  apply_file(st, file_table, src.file, true);
  auto profile_spec = find_spec("profile");
  for (auto& [name, value] : src.env)
    if (name == env_name("profile"))
      apply(st, *profile_spec, parse_text(*profile_spec, value, name), name);
  for (auto& [key, value] : src.overrides)
    if (key == "profile")
      apply(st, *profile_spec, parse_text(*profile_spec, value, "command line"),
            "command line");
  auto chosen = st.run_profile;
  apply_defaults(st, chosen);
  apply_file(st, file_table, src.file, false);
  for (auto& [name, value] : src.env) {
    if (name == env_name("profile") || other_segflow_variables().count(name) > 0)
      continue;
    const spec* sp = nullptr;
    for (auto& candidate : schema())
      if (env_name(candidate.doc.key) == name)
        sp = &candidate;
    if (sp == nullptr)
      throw config_error("environment: unknown variable " + name
                         + " (SEGFLOW_<SECTION>_<KEY>, see segflow config --keys)");
    apply(st, *sp, parse_text(*sp, value, name), "environment " + name);
  }
  for (auto& [key, value] : src.overrides) {
    if (key == "profile")
      continue;
    auto sp = find_spec(key);
    if (sp == nullptr)
      throw config_error("command line: unknown key '" + key + "'");
    apply(st, *sp, parse_text(*sp, value, "command line"), "command line");
  }
  return st;
}

const std::set<std::string>& other_segflow_variables() {
  static const std::set<std::string> names = {
    "SEGFLOW_CONFIG",     // the config file (every command)
    "SEGFLOW_CONNECT",    // the serve `segflow ctl` talks to
    "SEGFLOW_TEST_FAULT", // the test-only fault hook of the segment workers
    "SEGFLOW_WORKER_REJOINS", // how often a worker node started afresh to rejoin
  };
  return names;
}

std::vector<std::pair<std::string, std::string>> environment() {
  std::vector<std::pair<std::string, std::string>> result;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry = *e;
    if (entry.compare(0, 8, "SEGFLOW_") != 0)
      continue;
    auto eq = entry.find('=');
    if (eq == std::string::npos)
      continue;
    result.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
  }
  std::sort(result.begin(), result.end());
  return result;
}

const std::vector<key_doc>& keys() {
  static const std::vector<key_doc> docs = [] {
    std::vector<key_doc> out;
    for (auto& sp : schema())
      out.push_back(sp.doc);
    return out;
  }();
  return docs;
}

std::string to_string(profile p) {
  return p == profile::planktoscope ? "planktoscope" : "default";
}

std::string to_string(units u) {
  return u == units::pixels ? "px" : "um";
}

std::string to_string(object_ids ids) {
  return ids == object_ids::per_frame ? "per_frame" : "unique";
}

std::string to_toml(const settings& s) {
  auto b = [](bool v) { return v ? "true" : "false"; };
  auto q = [](const std::string& v) { return "\"" + v + "\""; };
  std::ostringstream os;
  os << "profile = " << q(to_string(s.run_profile)) << "\n\n";
  os << "[segmentation]\n"
     << "min_esd = " << fmt_num(s.segmentation.min_esd) << "\n"
     << "size_units = " << q(to_string(s.segmentation.size_units)) << "\n"
     << "require_process_pixel = " << b(s.segmentation.require_process_pixel) << "\n"
     << "remove_previous_mask = " << b(s.segmentation.remove_previous_mask) << "\n"
     << "flat_frames = " << s.segmentation.flat_frames << "\n"
     << "flat_recalculate = " << b(s.segmentation.flat_recalculate) << "\n"
     << "crop_margin = " << s.segmentation.crop_margin << "\n"
     << "crop_jpeg_quality = " << s.segmentation.crop_jpeg_quality << "\n\n";
  os << "[pipeline]\n"
     << "workers = " << s.pipeline.workers << "\n"
     << "reads_in_flight = " << s.pipeline.reads_in_flight << "\n"
     << "frame_timeout_s = " << fmt_num(s.pipeline.frame_timeout_s) << "\n"
     << "max_frame_pixels = " << s.pipeline.max_frame_pixels << "\n"
     << "opencv_threads = " << s.pipeline.opencv_threads << "\n"
     << "follow = " << b(s.pipeline.follow) << "\n"
     << "follow_idle_s = " << fmt_num(s.pipeline.follow_idle_s) << "\n"
     << "decode_once = " << b(s.pipeline.decode_once) << "\n"
     << "decode_band_rows = " << s.pipeline.decode_band_rows << "\n\n";
  os << "[tiling]\n"
     << "max_frame_pixels = " << s.tiling.max_frame_pixels << "\n"
     << "tile_width = " << s.tiling.tile_width << "\n"
     << "tile_height = " << s.tiling.tile_height << "\n"
     << "frames_in_flight = " << s.tiling.frames_in_flight << "\n"
     << "frames_memory_mb = " << fmt_num(s.tiling.frames_memory_mb) << "\n\n";
  os << "[export]\n"
     << "ecotaxa = " << b(s.exports.ecotaxa) << "\n"
     << "process_id = " << q(s.exports.process_id) << "\n"
     << "object_ids = " << q(to_string(s.exports.ids)) << "\n"
     << "report = " << b(s.exports.report) << "\n"
     << "commit_frames = " << s.exports.commit_frames << "\n"
     << "commit_window_ms = " << fmt_num(s.exports.commit_window_ms) << "\n\n";
  os << "[journal]\n"
     << "keep_days = " << fmt_num(s.journal.keep_days) << "\n"
     << "keep_max = " << s.journal.keep_max << "\n\n";
  os << "[log]\n"
     << "level = " << q(s.log.level) << "\n"
     << "json = " << b(s.log.json) << "\n";
  return os.str();
}

int effective_workers(const settings& s, unsigned cores) {
  if (s.pipeline.workers > 0)
    return s.pipeline.workers;
  return std::max(1, int(cores) - 1);
}

int tiled_frames_in_flight(const tiling_settings& t, std::int64_t frame_bytes) {
  int frames = std::max(1, t.frames_in_flight);
  if (t.frames_memory_mb <= 0 || frame_bytes <= 0)
    return frames;
  auto fit = std::int64_t(t.frames_memory_mb * 1024 * 1024) / frame_bytes;
  return int(std::clamp<std::int64_t>(fit, 1, frames));
}

} // namespace seg::config
