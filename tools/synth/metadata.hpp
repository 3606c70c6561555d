#pragma once

// What is written beside the frames: file names from the acquisition's
// clock, the imager's integrity.check lines and metadata.json, and the
// ground truth's JSON pieces.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "tools/synth/synth.hpp"

namespace seg::detail {

std::int64_t days_from_civil(int y, int m, int d);

struct stamp {
  int year, month, day, hour, minute, second, micro;
};

stamp to_stamp(std::int64_t us);

// %Y-%m-%d_%H-%M-%S-%f.jpg
std::string frame_name(const stamp& s);

// One line of the upstream integrity file: name,size,sha1(name NUL data).
std::string integrity_line(const std::string& name, const std::vector<uchar>& data);

// Key names, order and JSON types of the imager's metadata.json as in the
// composed data sets (real v2024 metadata).
nlohmann::ordered_json make_metadata(const synth_options& o, const std::string& sample_id,
                                     const std::string& acq_id, const stamp& start,
                                     int n_files);

nlohmann::ordered_json objects_json(const std::vector<synth_object>& objs);

nlohmann::ordered_json illumination_json(const synth_illumination_params& p,
                                         const cv::Mat1f& lum);

nlohmann::ordered_json options_json(const synth_options& o);

} // namespace seg::detail
