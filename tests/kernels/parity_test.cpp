// Bit-parity of the kernels with the reference segmenter's output on the
// composed acquisitions (shared data, reference/ folders): the flat's sha256
// and every object's TSV row.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <openssl/evp.h>

#include "kernels/correct.hpp"
#include "kernels/flat_field.hpp"
#include "kernels/mask.hpp"
#include "kernels/objects.hpp"

namespace fs = std::filesystem;
using namespace seg::kernels;

namespace {

std::string sha256_hex(const cv::Mat& m) {
  CV_Assert(m.isContinuous());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  REQUIRE(EVP_Digest(m.data, m.total() * m.elemSize(), digest, &len, EVP_sha256(), nullptr) == 1);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

struct acquisition {
  fs::path dir;                    ///< img/<date>/<sample>/<acq>/
  fs::path reference;              ///< <set>/reference/
  std::vector<std::string> frames; ///< sorted frame file names
};

bool is_frame(const std::string& name) {
  for (const char* ext : {"JPG", "jpg", "JPEG", "jpeg"}) {
    const std::string e(ext);
    if (name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0)
      return true;
  }
  return false;
}

acquisition find_acquisition(const std::string& set) {
  const fs::path root = fs::path(SEGFLOW_SHARED_DATA) / "composed" / set;
  acquisition acq;
  acq.reference = root / "reference";
  for (const auto& e : fs::recursive_directory_iterator(root / "img"))
    if (e.is_regular_file() && e.path().filename() == "metadata.json")
      acq.dir = e.path().parent_path();
  REQUIRE(!acq.dir.empty());
  for (const auto& e : fs::directory_iterator(acq.dir))
    if (e.is_regular_file() && is_frame(e.path().filename().string()))
      acq.frames.push_back(e.path().filename().string());
  std::sort(acq.frames.begin(), acq.frames.end());
  return acq;
}

std::vector<std::string> split_tab(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, '\t'))
    out.push_back(cell);
  if (!line.empty() && line.back() == '\t')
    out.emplace_back();
  return out;
}

struct tsv {
  std::map<std::string, std::size_t> column;
  std::map<std::string, std::vector<std::string>> by_object_id;
};

tsv read_tsv(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  tsv t;
  std::string line;
  REQUIRE(std::getline(in, line));
  const auto names = split_tab(line);
  for (std::size_t i = 0; i < names.size(); ++i)
    t.column[names[i]] = i;
  REQUIRE(std::getline(in, line)); // [t]/[f] type line
  REQUIRE(t.column.count("object_id") == 1);
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    auto cells = split_tab(line);
    REQUIRE(cells.size() == names.size());
    t.by_object_id[cells[t.column["object_id"]]] = std::move(cells);
  }
  return t;
}

cv::Mat read_frame(const acquisition& acq, const std::string& name) {
  cv::Mat m = cv::imread((acq.dir / name).string(), cv::IMREAD_COLOR);
  REQUIRE(!m.empty());
  return m;
}

cv::Mat flat_of(const acquisition& acq, const std::vector<std::size_t>& indices) {
  std::vector<cv::Mat> frames;
  for (auto i : indices)
    frames.push_back(read_frame(acq, acq.frames[i]));
  return median_flat(frames);
}

// One TSV column compared with one value of ours.
struct column_check {
  std::string name;
  bool exact;
  std::function<double(const object_features&)> get;
};

std::vector<column_check> feature_columns() {
  using f = const object_features&;
  return {
      {"object_width", true, [](f o) { return o.width; }},
      {"object_height", true, [](f o) { return o.height; }},
      {"object_bx", true, [](f o) { return o.bx; }},
      {"object_by", true, [](f o) { return o.by; }},
      {"object_circ.", false, [](f o) { return o.circ; }},
      {"object_area_exc", true, [](f o) { return o.area_exc; }},
      {"object_area", true, [](f o) { return o.area; }},
      {"object_%area", false, [](f o) { return o.percent_area; }},
      {"object_major", false, [](f o) { return o.major; }},
      {"object_minor", false, [](f o) { return o.minor; }},
      {"object_y", false, [](f o) { return o.y; }},
      {"object_x", false, [](f o) { return o.x; }},
      {"object_convex_area", true, [](f o) { return o.convex_area; }},
      {"object_perim.", false, [](f o) { return o.perimeter; }},
      {"object_elongation", false, [](f o) { return o.elongation; }},
      {"object_perimareaexc", false, [](f o) { return o.perim_area_exc; }},
      {"object_perimmajor", false, [](f o) { return o.perim_major; }},
      {"object_circex", false, [](f o) { return o.circex; }},
      {"object_angle", false, [](f o) { return o.angle; }},
      {"object_bounding_box_area", true, [](f o) { return o.bounding_box_area; }},
      {"object_eccentricity", false, [](f o) { return o.eccentricity; }},
      {"object_equivalent_diameter", false, [](f o) { return o.equivalent_diameter; }},
      {"object_euler_number", true, [](f o) { return o.euler_number; }},
      {"object_extent", false, [](f o) { return o.extent; }},
      {"object_local_centroid_col", false, [](f o) { return o.local_centroid_col; }},
      {"object_local_centroid_row", false, [](f o) { return o.local_centroid_row; }},
      {"object_solidity", false, [](f o) { return o.solidity; }},
      {"object_blur_laplacian", false, [](f o) { return o.blur_laplacian; }},
      {"object_MeanHue", false, [](f o) { return o.mean_hue; }},
      {"object_MeanSaturation", false, [](f o) { return o.mean_saturation; }},
      {"object_MeanValue", false, [](f o) { return o.mean_value; }},
      {"object_StdHue", false, [](f o) { return o.std_hue; }},
      {"object_StdSaturation", false, [](f o) { return o.std_saturation; }},
      {"object_StdValue", false, [](f o) { return o.std_value; }},
  };
}

bool same_value(const std::string& cell, double ours, bool exact) {
  if (cell.empty())
    return false;
  char* end = nullptr;
  const double ref = std::strtod(cell.c_str(), &end);
  if (end == cell.c_str())
    return false;
  if (std::isnan(ref) || std::isnan(ours))
    return std::isnan(ref) && std::isnan(ours);
  if (exact || std::isinf(ref))
    return ref == ours;
  return std::abs(ref - ours) <= std::max(1e-9, 1e-6 * std::abs(ref));
}

// Mismatches per named check, reported at the end one CHECK per name.
struct mismatch_log {
  std::map<std::string, std::size_t> count;
  std::map<std::string, std::string> first;
  std::vector<std::string> order;

  void expect(const std::string& name, bool ok, const std::string& detail) {
    if (!count.count(name)) {
      count[name] = 0;
      order.push_back(name);
    }
    if (!ok && count[name]++ == 0)
      first[name] = detail;
  }

  void report() const {
    for (const auto& name : order) {
      const std::size_t n = count.at(name);
      INFO(name << ": " << n << " mismatch(es)"
                << (n ? "; first: " + first.at(name) : std::string()));
      CHECK(n == 0);
    }
  }
};

void run_parity(const std::string& set) {
  const acquisition acq = find_acquisition(set);
  REQUIRE(!acq.frames.empty());
  std::ifstream flats_in(acq.reference / "flats.json");
  REQUIRE(flats_in.good());
  const auto flats = nlohmann::json::parse(flats_in);
  REQUIRE(!flats.empty());
  std::ifstream manifest_in(acq.reference / "export_manifest.json");
  REQUIRE(manifest_in.good());
  const auto manifest = nlohmann::json::parse(manifest_in);
  std::map<std::string, std::size_t> crop_bytes;
  for (const auto& e : manifest.at("zips").at(0).at("entries"))
    crop_bytes[e.at("name").get<std::string>()] = e.at("size").get<std::size_t>();
  tsv ref;
  for (const auto& e : fs::directory_iterator(acq.reference))
    if (e.path().extension() == ".tsv")
      ref = read_tsv(e.path());
  REQUIRE(!ref.by_object_id.empty());

  // (a) The initial flat.
  const auto indices = initial_flat_indices(acq.frames.size());
  std::vector<std::string> names;
  for (auto i : indices)
    names.push_back(acq.frames[i]);
  CHECK(names == flats.at(0).at("frames").get<std::vector<std::string>>());
  cv::Mat flat = flat_of(acq, indices);
  CHECK(sha256_hex(flat) == flats.at(0).at("sha256_raw_bgr").get<std::string>());
  std::size_t flat_count = 1;

  // (b) Every frame's objects, as the reference's _pipe loop runs them.
  const auto columns = feature_columns();
  for (const auto& c : columns)
    REQUIRE(ref.column.count(c.name) == 1);
  mismatch_log log;
  flat_recalc_heuristic heuristic;
  std::size_t total = 0;
  cv::Mat corrected, gray, cv_gray, cv_step0;
  gray_histogram hist;
  for (std::size_t i = 0; i < acq.frames.size(); ++i) {
    const std::string& name = acq.frames[i];
    const std::string stem = fs::path(name).stem().string();
    // The worker's path: corrected in place, gray and histogram in the same pass.
    corrected = read_frame(acq, name);
    correct_frame_gray(corrected, flat, corrected, gray, hist);
    const mask_result mask = make_mask(gray, hist, {}, nullptr);
    cv::cvtColor(corrected, cv_gray, cv::COLOR_BGR2GRAY);
    const double cv_threshold =
        cv::threshold(cv_gray, cv_step0, 127, 255, cv::THRESH_BINARY_INV | cv::THRESH_TRIANGLE);
    log.expect("mask: fused gray == cv::cvtColor, threshold == cv::threshold",
               cv::countNonZero(cv_gray != gray) == 0 && cv_threshold == mask.threshold, name);
    mask_params opencv_morphology;
    opencv_morphology.morphology = morphology_impl::opencv;
    const mask_result slow = make_mask(corrected, opencv_morphology, nullptr);
    log.expect("mask: bitset morphology == OpenCV morphology",
               slow.threshold == mask.threshold && cv::countNonZero(slow.mask != mask.mask) == 0,
               name);
    const labelling labelled = label_regions(mask.mask);
    const auto kept = filter_regions(labelled.regions, {20, 0});
    const auto features = measure_regions(labelled, kept, corrected);
    REQUIRE(features.size() == kept.size());

    std::size_t ref_count = 0;
    while (ref.by_object_id.count(stem + "_" + std::to_string(ref_count)))
      ++ref_count;
    log.expect("objects per frame", kept.size() == ref_count,
               name + ": ours " + std::to_string(kept.size()) + ", reference " +
                   std::to_string(ref_count));
    for (std::size_t k = 0; k < std::min(kept.size(), ref_count); ++k) {
      const std::string id = stem + "_" + std::to_string(k);
      const auto& row = ref.by_object_id.at(id);
      auto cell = [&](const std::string& col) { return row[ref.column.at(col)]; };
      const region& r = kept[k];
      // The region itself (independent of measure_region).
      const std::pair<const char*, double> geometry[] = {
          {"object_label", static_cast<double>(total + k)},
          {"region bbox x (object_bx)", r.bbox.x},
          {"region bbox y (object_by)", r.bbox.y},
          {"region bbox width (object_width)", r.bbox.width},
          {"region bbox height (object_height)", r.bbox.height},
          {"region area (object_area_exc)", static_cast<double>(r.area)},
      };
      for (const auto& [check, ours] : geometry) {
        std::string col = check;
        const auto open = col.find('(');
        if (open != std::string::npos)
          col = col.substr(open + 1, col.size() - open - 2);
        log.expect(check, same_value(cell(col), ours, true),
                   id + ": ours " + std::to_string(ours) + ", reference " + cell(col));
      }
      for (const auto& c : columns) {
        const double ours = c.get(features[k]);
        std::ostringstream detail;
        detail.precision(17);
        detail << id << ": ours " << ours << ", reference " << cell(c.name);
        log.expect(c.name, same_value(cell(c.name), ours, c.exact), detail.str());
      }
      const auto jpeg = encode_crop_jpeg(corrected, crop_rect(r.bbox, corrected.size()));
      const auto want = crop_bytes.find(id + ".jpg");
      log.expect("crop JPEG size (export_manifest)",
                 want != crop_bytes.end() && want->second == jpeg.size(),
                 id + ": ours " + std::to_string(jpeg.size()) + " B, reference " +
                     (want == crop_bytes.end() ? std::string("missing")
                                               : std::to_string(want->second)) +
                     " B");
    }
    total += kept.size();
    if (heuristic.after_frame(i, kept.size()) && i + 1 < acq.frames.size()) {
      flat = flat_of(acq, recalc_flat_indices(i + 1, acq.frames.size()));
      ++flat_count;
    }
  }
  log.expect("total objects", total == ref.by_object_id.size(),
             "ours " + std::to_string(total) + ", reference " +
                 std::to_string(ref.by_object_id.size()));
  log.expect("flat computations", flat_count == flats.size(),
             "ours " + std::to_string(flat_count) + ", reference " +
                 std::to_string(flats.size()));
  log.report();
}

} // namespace

TEST_CASE("parity with the reference segmenter: composed dev-small", "[kernel][parity]") {
  run_parity("dev-small");
}

TEST_CASE("parity with the reference segmenter: composed dev-a (4056x3040)",
          "[kernel][parity]") {
  run_parity("dev-a");
}
