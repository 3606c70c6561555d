#include "actors/io/frame_record.hpp"

#include <cmath>
#include <limits>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/io/atomic_file.hpp"
#include "actors/io/feature_table.hpp"
#include "actors/io/io_error.hpp"
#include "actors/io/json_depth.hpp"

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace seg::io {

namespace {

constexpr const char* format_name = "segflow-frame-record";
constexpr int format_version = 1;

ordered_json real_to_json(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v < 0 ? "-inf" : "inf";
  return v;
}

void append_line(std::string& out, const ordered_json& j, const std::string& what) {
  try {
    out += j.dump();
  } catch (const ordered_json::type_error& e) {
    throw io_error(what, std::string("cannot serialise frame record: ") + e.what());
  }
  out += '\n';
}

// Field access with errors that say which line and field.
class line_reader {
public:
  line_reader(const ordered_json& j, const fs::path& origin, std::size_t line)
    : j_(j), origin_(origin), line_(line) {
    // nop
  }

  [[noreturn]] void fail(const std::string& problem) const {
    throw io_error(origin_, "invalid frame record, line " + std::to_string(line_) + ": "
                              + problem);
  }

  const ordered_json& field(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end())
      fail(std::string("missing field \"") + key + "\"");
    return *it;
  }

  std::string string(const char* key) const {
    const auto& v = field(key);
    if (!v.is_string())
      fail(std::string("field \"") + key + "\" is not a string");
    return v.get<std::string>();
  }

  long long integer(const ordered_json& v, const std::string& key) const {
    if (!v.is_number_integer())
      fail("field \"" + key + "\" is not an integer");
    return v.get<long long>();
  }

  int int32(const ordered_json& v, const std::string& key) const {
    long long x = integer(v, key);
    if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max())
      fail("field \"" + key + "\" is out of range");
    return static_cast<int>(x);
  }

  int int32(const char* key) const {
    return int32(field(key), key);
  }

  double real(const ordered_json& v, const std::string& key) const {
    if (v.is_number())
      return v.get<double>();
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (s == "nan")
        return std::numeric_limits<double>::quiet_NaN();
      if (s == "inf")
        return std::numeric_limits<double>::infinity();
      if (s == "-inf")
        return -std::numeric_limits<double>::infinity();
    }
    fail("field \"" + key + "\" is not a number");
  }

private:
  const ordered_json& j_;
  const fs::path& origin_;
  std::size_t line_;
};

} // namespace

std::string serialize_frame_record(const frame_record& record) {
  std::string out;
  ordered_json head = ordered_json::object();
  head["format"] = format_name;
  head["version"] = format_version;
  head["frame"] = record.frame;
  head["frame_index"] = record.frame_index;
  head["object_count"] = record.objects.size();
  append_line(out, head, record.frame);
  for (const auto& obj : record.objects) {
    ordered_json line = ordered_json::object();
    line["i"] = obj.index;
    line["crop"] = obj.crop_file;
    ordered_json features = ordered_json::object();
    for (const auto& fc : detail::feature_columns) {
      if (fc.int_member != nullptr)
        features[fc.key] = obj.features.*(fc.int_member);
      else
        features[fc.key] = real_to_json(obj.features.*(fc.real_member));
    }
    line["features"] = std::move(features);
    append_line(out, line, record.frame);
  }
  return out;
}

frame_record parse_frame_record(const std::string& text, const fs::path& origin) {
  if (text.empty())
    throw io_error(origin, "invalid frame record: empty file");
  if (text.back() != '\n')
    throw io_error(origin, "invalid frame record: truncated (last line has no newline)");
  std::vector<std::string_view> lines;
  std::string_view rest(text);
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  auto parse_line = [&](std::size_t k) {
    if (!json_depth_within(lines[k]))
      throw io_error(origin, "invalid frame record, line " + std::to_string(k + 1)
                               + ": invalid JSON: " + json_too_deep());
    try {
      return ordered_json::parse(lines[k]);
    } catch (const ordered_json::exception& e) { // parse_error, out_of_range (1E400)
      throw io_error(origin, "invalid frame record, line " + std::to_string(k + 1)
                               + ": invalid JSON: " + e.what());
    }
  };
  frame_record rec;
  const ordered_json head = parse_line(0);
  line_reader h(head, origin, 1);
  if (!head.is_object())
    h.fail("not a JSON object");
  if (h.string("format") != format_name)
    h.fail(std::string("not a segflow frame record (format is not \"") + format_name + "\")");
  if (h.int32("version") != format_version)
    h.fail("unsupported version " + head["version"].dump());
  rec.frame = h.string("frame");
  rec.frame_index = h.int32("frame_index");
  const long long count = h.integer(h.field("object_count"), "object_count");
  if (count < 0)
    h.fail("object_count is negative");
  const std::size_t have = lines.size() - 1;
  if (have < static_cast<std::size_t>(count))
    throw io_error(origin, "invalid frame record: truncated (" + std::to_string(have)
                             + " of " + std::to_string(count) + " object lines)");
  if (have > static_cast<std::size_t>(count))
    throw io_error(origin, "invalid frame record: " + std::to_string(have)
                             + " object lines but object_count is " + std::to_string(count));
  rec.objects.reserve(static_cast<std::size_t>(count));
  for (std::size_t k = 1; k < lines.size(); ++k) {
    const ordered_json line = parse_line(k);
    line_reader r(line, origin, k + 1);
    if (!line.is_object())
      r.fail("not a JSON object");
    frame_object obj;
    obj.index = r.int32("i");
    obj.crop_file = r.string("crop");
    const auto& features = r.field("features");
    if (!features.is_object())
      r.fail("field \"features\" is not an object");
    line_reader fr(features, origin, k + 1);
    for (const auto& fc : detail::feature_columns) {
      const auto& v = fr.field(fc.key);
      if (fc.int_member != nullptr)
        obj.features.*(fc.int_member) = fr.int32(v, fc.key);
      else
        obj.features.*(fc.real_member) = fr.real(v, fc.key);
    }
    rec.objects.push_back(std::move(obj));
  }
  return rec;
}

void write_frame_record(const fs::path& file, const frame_record& record) {
  std::string text;
  try {
    text = serialize_frame_record(record);
  } catch (const io_error& e) {
    throw io_error(file, e.what());
  }
  write_file_atomic(file, text);
}

frame_record read_frame_record(const fs::path& file) {
  return parse_frame_record(read_file(file), file);
}

} // namespace seg::io
