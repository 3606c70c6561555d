#include "actors/io/mqtt_protocol.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <regex>

#include <nlohmann/json.hpp>

#include "actors/io/feature_table.hpp"
#include "actors/io/json_depth.hpp"
#include "actors/io/output_layout.hpp"

namespace fs = std::filesystem;

namespace seg::io::mqtt {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

std::string dump(const ojson& j) {
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

json parse_object(std::string_view payload, const char* what) {
  if (!json_depth_within(payload))
    throw protocol_error(std::string("invalid JSON in the ") + what + ": " + json_too_deep());
  json j = json::parse(payload.begin(), payload.end(), nullptr, false);
  if (j.is_discarded())
    throw protocol_error(std::string("invalid JSON in the ") + what);
  if (!j.is_object())
    throw protocol_error(std::string("the ") + what + " is not a JSON object");
  return j;
}

bool bool_of(const json& obj, const char* key, bool fallback) {
  auto it = obj.find(key);
  if (it == obj.end())
    return fallback;
  if (!it->is_boolean())
    throw protocol_error(std::string("settings.") + key + " must be true or false");
  return it->get<bool>();
}

std::string number_text(double x) {
  if (std::floor(x) == x && std::fabs(x) < 1e15)
    return std::to_string(static_cast<long long>(x));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

segment_settings settings_of(const json& msg) {
  segment_settings s;
  auto it = msg.find("settings");
  if (it == msg.end() || it->is_null())
    return s;
  if (!it->is_object())
    throw protocol_error("settings must be a JSON object");
  const auto& o = *it;
  s.force = bool_of(o, "force", s.force);
  s.recursive = bool_of(o, "recursive", s.recursive);
  s.ecotaxa = bool_of(o, "ecotaxa", s.ecotaxa);
  s.keep = bool_of(o, "keep", s.keep);
  s.remove_previous_mask = bool_of(o, "remove_previous_mask", s.remove_previous_mask);
  if (auto id = o.find("process_id"); id != o.end()) {
    if (id->is_string())
      s.process_id = id->get<std::string>();
    else if (id->is_number())
      s.process_id = number_text(id->get<double>());
    else
      throw protocol_error("settings.process_id must be a number or a string");
  }
  if (auto esd = o.find("process_min_ESD"); esd != o.end()) {
    if (!esd->is_number() || !std::isfinite(esd->get<double>()) || esd->get<double>() < 0)
      throw protocol_error("settings.process_min_ESD must be a number >= 0");
    s.min_esd = esd->get<double>();
  }
  return s;
}

std::vector<fs::path> paths_of(const json& msg) {
  std::vector<fs::path> out;
  auto it = msg.find("path");
  if (it == msg.end() || it->is_null())
    return out;
  if (it->is_string()) {
    out.emplace_back(it->get<std::string>());
    return out;
  }
  if (!it->is_array())
    throw protocol_error("path must be a list of folders or one folder");
  for (auto& p : *it) {
    if (!p.is_string())
      throw protocol_error("path must hold folder names (strings)");
    out.emplace_back(p.get<std::string>());
  }
  if (out.empty())
    throw protocol_error("path is an empty list");
  return out;
}

bool follow_of(const json& msg) {
  auto it = msg.find("follow");
  if (it == msg.end())
    return false;
  if (!it->is_boolean())
    throw protocol_error("follow must be true or false");
  return it->get<bool>();
}

} // namespace

request parse_request(std::string_view payload) {
  auto msg = parse_object(payload, "request");
  request r;
  auto it = msg.find("action");
  if (it == msg.end())
    return r;
  if (!it->is_string())
    throw protocol_error("action must be a string");
  r.action_text = it->get<std::string>();
  if (r.action_text == "segment") {
    r.kind = action::segment;
    r.paths = paths_of(msg);
    r.settings = settings_of(msg);
    r.follow = follow_of(msg);
  } else if (r.action_text == "stop") {
    r.kind = action::stop;
  } else if (r.action_text == "update_config") {
    r.kind = action::update_config;
  } else {
    r.kind = r.action_text.empty() ? action::none : action::unknown;
  }
  return r;
}

std::vector<std::string> job_overrides(const segment_settings& s, bool follow) {
  std::vector<std::string> out = {
    std::string("export.ecotaxa=") + (s.ecotaxa ? "true" : "false"),
    "segmentation.min_esd=" + number_text(s.min_esd),
    std::string("segmentation.remove_previous_mask=")
      + (s.remove_previous_mask ? "true" : "false"),
  };
  if (s.process_id)
    out.push_back("export.process_id=" + *s.process_id);
  if (follow)
    out.push_back("pipeline.follow=true");
  return out;
}

std::optional<imager_status> parse_imager_status(std::string_view payload) {
  if (!json_depth_within(payload))
    return std::nullopt;
  json j = json::parse(payload.begin(), payload.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  imager_status out;
  if (auto it = j.find("status"); it != j.end() && it->is_string())
    out.status = it->get<std::string>();
  if (auto it = j.find("path"); it != j.end() && it->is_string())
    out.path = it->get<std::string>();
  return out;
}

fs::path checked_request_path(const fs::path& p) {
  if (!p.is_absolute())
    throw protocol_error("path " + p.string() + " is not absolute");
  auto normal = p.lexically_normal();
  if (normal.filename().empty() && normal.has_parent_path() && normal != normal.root_path())
    normal = normal.parent_path();
  for (auto& part : normal)
    if (part == "img")
      return normal;
  throw protocol_error("path " + normal.string()
                       + " is not inside an img/ folder (expected <data root>/img/...)");
}

std::string status_json(std::string_view text) {
  ojson j;
  j["status"] = std::string(text);
  return dump(j);
}

std::string exception_text(std::string_view reason) {
  std::string r(reason);
  while (!r.empty() && (r.back() == '.' || std::isspace(static_cast<unsigned char>(r.back()))))
    r.pop_back();
  return "An exception was raised during the segmentation: " + r + ".";
}

std::vector<std::pair<std::string, std::string>>
object_messages(const frame_record& record, std::uint64_t first_label) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(record.objects.size() * 2);
  auto label = first_label;
  for (auto& obj : record.objects) {
    ojson id;
    id["object_id"] = std::to_string(label);
    out.emplace_back(object_id_topic, dump(id));
    ojson meta;
    meta["label"] = label;
    for (auto& col : detail::feature_columns) {
      std::string key = col.tsv_name + 7; // without "object_"
      if (col.int_member != nullptr)
        meta[key] = obj.features.*col.int_member;
      else
        meta[key] = obj.features.*col.real_member;
    }
    ojson metric;
    metric["name"] = frame_stem(obj.crop_file);
    metric["metadata"] = std::move(meta);
    out.emplace_back(metric_topic, dump(metric));
    ++label;
  }
  return out;
}

std::optional<fs::path> frame_record_path(const fs::path& acq, std::string_view frame_name) {
  std::vector<fs::path> parts(acq.begin(), acq.end());
  std::size_t img = parts.size();
  for (std::size_t k = parts.size(); k-- > 0;)
    if (parts[k] == "img") {
      img = k;
      break;
    }
  if (img + 1 >= parts.size())
    return std::nullopt;
  fs::path root, rel;
  for (std::size_t k = 0; k < img; ++k)
    root /= parts[k];
  for (std::size_t k = img + 1; k < parts.size(); ++k)
    rel /= parts[k];
  return output_layout(root, rel).record_file(frame_name);
}

command parse_command(std::string_view payload) {
  auto msg = parse_object(payload, "segflow command");
  command c;
  if (auto rid = msg.find("request_id"); rid != msg.end())
    c.request_id_json = rid->dump();
  auto it = msg.find("command");
  if (it == msg.end() || !it->is_string())
    throw protocol_error("a segflow command needs \"command\" (a string)");
  c.name = it->get<std::string>();
  static const char* const with_id[] = {"status", "move", "remove", "stop"};
  static const char* const plain[] = {"list", "add", "stop-queue", "resume-queue", "stop-all"};
  bool needs_id = false;
  bool known = false;
  for (auto* n : with_id)
    if (c.name == n)
      needs_id = known = true;
  for (auto* n : plain)
    if (c.name == n)
      known = true;
  if (!known)
    throw protocol_error("unknown segflow command '" + c.name + "'");
  if (needs_id) {
    auto id = msg.find("id");
    if (id == msg.end() || !id->is_number_unsigned() || id->get<std::uint64_t>() == 0)
      throw protocol_error(c.name + " needs \"id\": a job id (a number >= 1)");
    c.id = id->get<std::uint64_t>();
  }
  if (c.name == "move") {
    auto to = msg.find("to");
    if (to == msg.end() || !to->is_number_unsigned() || to->get<std::uint64_t>() == 0
        || to->get<std::uint64_t>() > 1'000'000)
      throw protocol_error("move needs \"to\": a position among pending jobs (1 = next)");
    c.to = to->get<std::uint32_t>();
  }
  if (c.name == "add") {
    c.paths = paths_of(msg);
    if (c.paths.empty())
      throw protocol_error("add needs \"path\": one folder or a list of folders");
    c.settings = settings_of(msg);
    c.follow = follow_of(msg);
  }
  return c;
}

namespace {

ojson reply_head(const command& c, bool ok) {
  ojson j;
  j["request_id"] = ojson::parse(c.request_id_json, nullptr, false);
  j["command"] = c.name;
  j["ok"] = ok;
  return j;
}

} // namespace

std::string command_reply(const command& c, const ojson& result) {
  auto j = reply_head(c, true);
  j["result"] = result;
  return dump(j);
}

std::string command_error(const command& c, std::string_view error, std::string_view code) {
  auto j = reply_head(c, false);
  j["error"] = std::string(error);
  if (!code.empty())
    j["code"] = std::string(code);
  return dump(j);
}

dashboard_view dashboard_parse(std::string_view payload) {
  json j = json_depth_within(payload) ? json::parse(payload.begin(), payload.end(), nullptr, false)
                                      : json(json::value_t::discarded);
  if (j.is_discarded() || !j.is_object() || !j.contains("status") || !j["status"].is_string())
    throw protocol_error("not a status payload: " + std::string(payload));
  dashboard_view v;
  v.status = j["status"].get<std::string>();
  std::string lower = v.status;
  for (auto& ch : lower)
    ch = char(std::tolower(static_cast<unsigned char>(ch)));
  using kind = dashboard_view::kind;
  if (lower.find("exception") != std::string::npos) {
    v.what = kind::error;
  } else if (lower.find("done") != std::string::npos
             || lower.find("idle") != std::string::npos) {
    v.what = kind::finished;
  } else if (lower.find("image") == std::string::npos) {
    v.what = kind::info;
  } else {
    v.what = kind::progress;
    // The dashboard's regular expressions; ECMAScript (std::regex's default)
    // has no "\_" escape inside a class, where it is a plain '_' anyway.
    static const std::regex image_re(R"(image ([\w\-_\.]+),)");
    static const std::regex index_re(R"(image (\d+)\/(\d+))");
    std::smatch m;
    if (std::regex_search(v.status, m, image_re))
      v.image = m[1];
    if (std::regex_search(v.status, m, index_re)) {
      v.index = std::stoi(m[1]);
      v.total = std::stoi(m[2]);
    }
  }
  return v;
}

} // namespace seg::io::mqtt
