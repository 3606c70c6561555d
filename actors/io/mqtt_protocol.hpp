#pragma once

// The PlanktoScope segmenter's MQTT protocol (segmenter/planktoscope/
// segmenter/__init__.py treat_message and its status calls; the Node-RED
// dashboard's parsing) and segflow's namespaced queue commands, as text in
// and text out. CAF-free: the bridge actor (actors/mqtt_bridge.*) decides
// when to send what, the MQTT client (tools/segflow/mqtt_client.*) carries it.
//
// Requests arrive on segmenter/# (the topic below segmenter/ is not used):
//   {"action":"segment","path":[DIR...],"settings":{...},"dataset":{...}}
//   {"action":"stop"}   {"action":"update_config"}
// Statuses go to status/segmenter as {"status":"<text>"} with the reference's
// exact texts. segflow's own commands: segmenter/segflow (JSON in), replies
// on status/segmenter/segflow, every status event as JSON on
// status/segmenter/segflow/event.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/io/frame_record.hpp"

namespace seg::io::mqtt {

inline constexpr const char* requests_filter = "segmenter/#";
inline constexpr const char* status_topic = "status/segmenter";
inline constexpr const char* object_id_topic = "status/segmenter/object_id";
inline constexpr const char* metric_topic = "status/segmenter/metric";
inline constexpr const char* segflow_topic = "segmenter/segflow";
inline constexpr const char* segflow_reply_topic = "status/segmenter/segflow";
inline constexpr const char* segflow_event_topic = "status/segmenter/segflow/event";
inline constexpr const char* imager_topic = "status/imager";

/// A request that cannot be used; what() says why, for the exception status.
class protocol_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// settings of a segment request, with the reference's defaults.
struct segment_settings {
  bool force = false;
  bool recursive = true;
  bool ecotaxa = true;
  bool keep = true;                      ///< debug images: accepted, segflow writes none
  std::optional<std::string> process_id; ///< a number is taken as its text
  double min_esd = 20;                   ///< process_min_ESD
  bool remove_previous_mask = false;
};

/// What a message on segmenter/# asks for.
enum class action : std::uint8_t {
  none,          ///< no "action" key: ignored, as the reference does
  segment,
  stop,
  update_config,
  unknown,       ///< another action: logged
};

struct request {
  action kind = action::none;
  std::string action_text;                ///< the "action" value as sent
  std::vector<std::filesystem::path> paths; ///< empty: the whole img/ tree
  segment_settings settings;
  bool follow = false;                    ///< segflow's addition: follow a live acquisition
};

/// Parses a request payload. A string "path" is one folder (the reference
/// would walk it character by character); a missing "settings" means the
/// defaults (the reference silently does nothing). @throws protocol_error on
/// invalid JSON, a payload that is not an object, or a key of the wrong type
/// (named).
request parse_request(std::string_view payload);

/// The per-job settings ("section.key=value") a segment request's settings
/// stand for; `follow` adds pipeline.follow=true.
std::vector<std::string> job_overrides(const segment_settings& s, bool follow = false);

/// What the bridge reads of a status/imager message (controller/imager/
/// main.py): {"status":"Started"}, progress {"type":"progress","path":
/// "<frame file>",...}, {"status":"Done","path":"<acquisition>"},
/// {"status":"Interrupted"}. Fields absent are empty; nullopt if the payload
/// is not a JSON object.
struct imager_status {
  std::string status;
  std::string path;
};
std::optional<imager_status> parse_imager_status(std::string_view payload);

/// Checks that a requested folder lies in or below an img/ folder and is
/// absolute; returns it lexically normal. @throws protocol_error naming it.
std::filesystem::path checked_request_path(const std::filesystem::path& p);

/// {"status":"<text>"}, JSON-escaped.
std::string status_json(std::string_view text);

/// The reference's failure status text: "An exception was raised during the
/// segmentation: <reason>." (a trailing '.' of the reason is not doubled).
std::string exception_text(std::string_view reason);

/// The per-object messages the reference publishes for one frame, in order:
/// for each object (topic, payload) on status/segmenter/object_id
/// {"object_id":"<label>"} then on status/segmenter/metric
/// {"name":"<object id>","metadata":{"label":<label>,"width":...,...}} with
/// the reference's metadata keys (the TSV's object_ columns without the
/// prefix). Labels count on from `first_label`, as the reference numbers
/// objects across an acquisition.
std::vector<std::pair<std::string, std::string>>
object_messages(const frame_record& record, std::uint64_t first_label);

/// Where a frame's committed record is: <root>/objects/<rel>/.segflow/
/// frames/<stem>.jsonl for the acquisition folder `acq` (nullopt if acq is
/// not below an img/ folder).
std::optional<std::filesystem::path> frame_record_path(const std::filesystem::path& acq,
                                                       std::string_view frame_name);

/// One of segflow's queue commands (topic segmenter/segflow):
/// {"command":"list"|"status"|"add"|"move"|"remove"|"stop"|"stop-queue"|
///  "resume-queue"|"stop-all", "id":N, "to":POS, "path":[DIR...],
///  "settings":{...as segment...}, "follow":bool, "request_id":<any>}.
struct command {
  std::string name;
  std::uint64_t id = 0;
  std::uint32_t to = 0;
  std::vector<std::filesystem::path> paths;
  segment_settings settings;
  bool follow = false;
  std::string request_id_json = "null"; ///< echoed in the reply
};

/// Parses a command. @throws protocol_error: invalid JSON, an unknown
/// command, a missing or mistyped argument (named).
command parse_command(std::string_view payload);

/// The reply on status/segmenter/segflow:
/// {"request_id":...,"command":"...","ok":true,"result":...} or
/// {"request_id":...,"command":"...","ok":false,"error":"...","code":"..."}
/// (`code`, the error code's name such as "unknown_job", only when known).
std::string command_reply(const command& c, const nlohmann::ordered_json& result);
std::string command_error(const command& c, std::string_view error,
                          std::string_view code = {});

/// What the dashboard (node-red/projects/dashboard, segmentation status
/// template) makes of a status/segmenter payload, by its rules: lowercased
/// status contains "exception": error; "done" or "idle": finished; no
/// "image": info; else progress, the file from /image ([\w\-\_\.]+),/ and
/// i/N from /image (\d+)\/(\d+)/ (empty / 0 when they do not match).
struct dashboard_view {
  enum class kind : std::uint8_t { error, finished, info, progress } what = kind::info;
  std::string status;
  std::string image;
  int index = 0;
  int total = 0;
};

/// @throws protocol_error if `payload` is not JSON or has no string status.
dashboard_view dashboard_parse(std::string_view payload);

} // namespace seg::io::mqtt
