#include "tools/synth/synth.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

using seg::test::temp_dir;

std::vector<uchar> read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

json read_json(const fs::path& p) {
  std::ifstream f(p);
  return json::parse(f);
}

// Every regular file under `root`, by relative path.
std::map<std::string, std::vector<uchar>> snapshot(const fs::path& root) {
  std::map<std::string, std::vector<uchar>> out;
  for (auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file())
      out[fs::relative(e.path(), root).generic_string()] = read_bytes(e.path());
  return out;
}

std::vector<std::string> jpeg_names(const fs::path& dir) {
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator(dir)) {
    auto name = e.path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".jpg") == 0)
      out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

seg::synth_options small_options(const fs::path& out) {
  seg::synth_options o;
  o.out = out;
  o.frames = 12;
  o.width = 320;
  o.height = 240;
  o.objects = 6;
  o.seed = 7;
  o.bad = true;
  return o;
}

// Microseconds since an arbitrary epoch from a %Y-%m-%d_%H-%M-%S-%f name
// (the days of the month are enough: acquisitions last minutes).
std::int64_t name_time_us(const std::string& name) {
  int y, mo, d, h, mi, s, us;
  REQUIRE(std::sscanf(name.c_str(), "%4d-%2d-%2d_%2d-%2d-%2d-%6d", &y, &mo, &d, &h, &mi, &s,
                      &us)
          == 7);
  return ((((std::int64_t{y} * 12 + mo) * 31 + d) * 24 + h) * 3600 + mi * 60 + s) * 1000000
         + us;
}

// Width and height from the SOF marker of a JPEG header, or {-1, -1}. Only
// walks the marker segments before the entropy-coded data, so it works on a
// truncated file.
std::pair<int, int> jpeg_header_size(const std::vector<uchar>& b) {
  if (b.size() < 4 || b[0] != 0xFF || b[1] != 0xD8)
    return {-1, -1};
  std::size_t i = 2;
  while (i + 4 <= b.size() && b[i] == 0xFF) {
    const uchar m = b[i + 1];
    const std::size_t len = std::size_t{b[i + 2]} << 8 | b[i + 3];
    if (m >= 0xC0 && m <= 0xC3 && i + 9 <= b.size())
      return {b[i + 7] << 8 | b[i + 8], b[i + 5] << 8 | b[i + 6]};
    if (m == 0xDA)
      break;
    i += 2 + len;
  }
  return {-1, -1};
}

// The illumination luminance recomputed from ground_truth.json's parameters
// with the documented model (an independent implementation of it).
cv::Mat1f luminance_from_truth(const json& il, int w, int h) {
  cv::Mat1f lum(h, w);
  const double c = il["centre_level"], a = il["vignette_a"], b = il["vignette_b"];
  const double ax = il["axis"][0], ay = il["axis"][1];
  const double gx = il["gradient"][0], gy = il["gradient"][1];
  const double diag2 = w * w / 4.0 + h * h / 4.0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double r2 = ((x - ax) * (x - ax) + (y - ay) * (y - ay)) / diag2;
      double v = c * (1 - a * r2 - b * r2 * r2)
                 * (1 + gx * (2.0 * x / w - 1) + gy * (2.0 * y / h - 1));
      for (auto& d : il["dust"]) {
        const double dist = std::hypot(x - d["x"].get<double>(), y - d["y"].get<double>());
        const double r = d["radius"];
        if (dist > 4 * r + 4)
          continue;
        const double prof = d["ring"].get<bool>()
                              ? std::exp(-(dist - r) * (dist - r) / (2 * 0.18 * r * 0.18 * r))
                              : std::exp(-dist * dist / (2 * r * r));
        v *= 1 - d["depth"].get<double>() * prof;
      }
      lum(y, x) = static_cast<float>(v);
    }
  return lum;
}

cv::Rect rect_of(const json& a) {
  return {a[0].get<int>(), a[1].get<int>(), a[2].get<int>(), a[3].get<int>()};
}

} // namespace

TEST_CASE("synth: same options give byte-identical files", "[synth]") {
  temp_dir a, b;
  auto oa = small_options(a.path);
  auto ob = small_options(b.path);
  auto ra = seg::generate_acquisition(oa);
  seg::generate_acquisition(ob);
  auto sa = snapshot(a.path);
  auto sb = snapshot(b.path);
  // 12 frames + 5 faults + metadata.json + integrity.check + ground_truth.json
  REQUIRE(sa.size() == 12 + 5 + 3);
  REQUIRE(sa.size() == sb.size());
  for (auto& [name, bytes] : sa) {
    INFO(name);
    REQUIRE(sb.count(name) == 1);
    CHECK(bytes == sb[name]);
  }

  SECTION("rerunning with the same options rewrites the same bytes") {
    seg::generate_acquisition(oa);
    CHECK(snapshot(a.path) == sa);
  }
  SECTION("an acquisition folder with frames of unknown origin is refused") {
    auto oc = small_options(a.path);
    oc.frames = 3;
    oc.bad = false;
    // Same folder name as oc would use, pre-filled with a stray frame.
    const auto acq = a.path / ra.acquisition_dir.lexically_relative(a.path).parent_path()
                     / seg::synth_acq_id(oc);
    fs::create_directories(acq);
    std::ofstream(acq / "stray.jpg") << "x";
    CHECK_THROWS_AS(seg::generate_acquisition(oc), seg::synth_conflict);
    CHECK(jpeg_names(acq).size() == 1);
  }
  SECTION("no temporary file is left behind") {
    for (auto& [name, bytes] : sa)
      CHECK(fs::path(name).filename().string().front() != '.');
  }
}

TEST_CASE("synth: real crops are deterministic too", "[synth]") {
  const fs::path crops
    = fs::path(SEGFLOW_SHARED_DATA) / "santa-cruz-wharf-planktoscope"
      / "Santa-cruz-wharf_20260304_WW";
  INFO(crops.string());
  REQUIRE(fs::is_directory(crops));
  temp_dir a, b;
  auto oa = small_options(a.path);
  oa.width = 640;
  oa.height = 480;
  oa.frames = 3;
  oa.bad = false;
  oa.crops = crops;
  auto ob = oa;
  ob.out = b.path;
  auto ra = seg::generate_acquisition(oa);
  seg::generate_acquisition(ob);
  CHECK(snapshot(a.path) == snapshot(b.path));
  REQUIRE(ra.total_objects > 0);
  const json gt = read_json(ra.ground_truth);
  std::set<std::string> names;
  for (auto& e : fs::directory_iterator(crops))
    names.insert(e.path().filename().string());
  for (auto& f : gt["frames"])
    for (auto& o : f["objects"]) {
      CHECK(o["kind"] == "crop");
      CHECK(names.count(o["crop"].get<std::string>()) == 1);
    }
}

TEST_CASE("synth: another seed gives other frames", "[synth]") {
  temp_dir a, b;
  auto oa = small_options(a.path);
  oa.bad = false;
  oa.frames = 3;
  auto ob = oa;
  ob.out = b.path;
  ob.seed = 8;
  auto ra = seg::generate_acquisition(oa);
  auto rb = seg::generate_acquisition(ob);
  REQUIRE(ra.frames.size() == 3);
  REQUIRE(rb.frames.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    cv::Mat fa = cv::imread(ra.frames[i].string());
    cv::Mat fb = cv::imread(rb.frames[i].string());
    REQUIRE(fa.size() == fb.size());
    // Different illumination and particles: many pixels differ by more than
    // the noise.
    cv::Mat diff;
    cv::absdiff(fa, fb, diff);
    CHECK(cv::countNonZero(diff.reshape(1) > 10) > 1000);
  }
  CHECK(ra.acquisition_dir.filename() != rb.acquisition_dir.filename());
}

TEST_CASE("synth: frames do not depend on order or thread count", "[synth]") {
  seg::synth_options o;
  o.out = "unused";
  o.width = 300;
  o.height = 200;
  o.objects = 10;
  o.seed = 11;
  seg::synth_generator g(o);
  const cv::Mat3b alone = g.frame(2);
  g.frame(0);
  g.frame(1);
  const int threads = cv::getNumThreads();
  cv::setNumThreads(1);
  const cv::Mat3b serial = g.frame(2);
  cv::setNumThreads(threads);
  const cv::Mat3b again = g.frame(2);
  CHECK(cv::norm(alone, serial, cv::NORM_INF) == 0);
  CHECK(cv::norm(alone, again, cv::NORM_INF) == 0);
  CHECK(cv::norm(alone, g.frame(3), cv::NORM_INF) > 0);
}

TEST_CASE("synth: stuck particles stay put from frame 10 on, nothing else changes",
          "[synth]") {
  seg::synth_options o;
  o.out = "unused";
  o.width = 400;
  o.height = 300;
  o.objects = 6;
  o.seed = 5;
  auto with = o;
  with.stuck = 2;
  CHECK(seg::synth_acq_id(with) == seg::synth_acq_id(o) + "-s2");
  seg::synth_generator plain(o), stuck(with);
  // Before frame 10 (the flat field's frames) the frames are the same bytes.
  for (int i : {0, 9})
    CHECK(cv::norm(plain.frame(i), stuck.frame(i), cv::NORM_INF) == 0);
  std::vector<cv::Rect> boxes;
  for (int i : {10, 11, 17}) {
    seg::synth_frame_truth t;
    const cv::Mat3b img = stuck.frame(i, &t);
    std::vector<cv::Rect> here, others;
    // ESD >= 30 px scaled like the particles (sqrt of the area ratio to 1014x760).
    const double min_area = 3.14159 * 15 * 15 * (400.0 * 300) / (1014.0 * 760);
    for (const auto& obj : t.objects) {
      (obj.stuck ? here : others).push_back(obj.bbox);
      CHECK((!obj.stuck || obj.area >= min_area));
    }
    REQUIRE(here.size() == 2);
    if (boxes.empty())
      boxes = here;
    CHECK(here == boxes); // same place in every frame
    for (const auto& b : here) {
      CHECK((b & cv::Rect(0, 0, o.width, o.height)) == b); // inside the frame
      for (const auto& m : others)
        CHECK((b & m).area() == 0); // moving particles avoid it
      // It darkens the frame where the plain frame has background.
      CHECK(cv::mean(img(b))[1] < cv::mean(plain.frame(i)(b))[1] - 10);
    }
  }
}

TEST_CASE("synth: layout, names, metadata and faults", "[synth]") {
  temp_dir t;
  auto o = small_options(t.path);
  auto res = seg::generate_acquisition(o);
  const json gt = read_json(res.ground_truth);

  SECTION("the acquisition lies under <out>/img/<date>/<sample>/<acq>") {
    CHECK(res.ground_truth == t.path / "ground_truth.json");
    const auto rel = res.acquisition_dir.lexically_relative(t.path);
    std::vector<std::string> parts;
    for (auto& p : rel)
      parts.push_back(p.string());
    REQUIRE(parts.size() == 4);
    CHECK(parts[0] == "img");
    CHECK(std::regex_match(parts[1], std::regex(R"(\d{8})")));
    CHECK(parts[2] == "synth-7");
    CHECK(parts[3] == seg::synth_acq_id(o));
    CHECK(gt["acquisition_dir"] == rel.generic_string());
  }

  const auto names = jpeg_names(res.acquisition_dir);
  SECTION("frame names are timestamps ~2 s apart, sorted order = time order") {
    REQUIRE(names.size() == 12 + 5);
    const std::regex pattern(R"(\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}-\d{6}\.jpg)");
    std::set<int> micros;
    for (std::size_t i = 0; i < names.size(); ++i) {
      INFO(names[i]);
      CHECK(std::regex_match(names[i], pattern));
      micros.insert(std::stoi(names[i].substr(20, 6)));
      CHECK(names[i].substr(0, 4) + names[i].substr(5, 2) + names[i].substr(8, 2)
            == res.acquisition_dir.parent_path().parent_path().filename().string());
      if (i > 0) {
        const auto dt = name_time_us(names[i]) - name_time_us(names[i - 1]);
        CHECK(dt >= 1500000);
        CHECK(dt <= 2500000);
      }
    }
    CHECK(micros.size() == names.size());
  }

  SECTION("good frames: listed in order, right size, the faults after the first 10") {
    REQUIRE(gt["frames"].size() == 12);
    REQUIRE(res.frames.size() == 12);
    for (std::size_t i = 0; i < 12; ++i) {
      const auto& f = gt["frames"][i];
      const std::size_t sorted = f["sorted_index"];
      REQUIRE(sorted < names.size());
      CHECK(names[sorted] == f["file"]);
      CHECK(res.frames[i].filename() == f["file"].get<std::string>());
      CHECK(f["index"] == i);
      if (i < 10)
        CHECK(sorted == i);
      cv::Mat img = cv::imread(res.frames[i].string(), cv::IMREAD_UNCHANGED);
      CHECK(img.cols == o.width);
      CHECK(img.rows == o.height);
      CHECK(img.channels() == 3);
    }
    for (auto& b : gt["bad"])
      CHECK(b["sorted_index"].get<std::size_t>() >= 10);
  }

  SECTION("metadata.json has the imager's keys, order and types") {
    const fs::path meta_path = res.acquisition_dir / "metadata.json";
    const json meta = read_json(meta_path);
    // The reference: a composed acquisition's metadata.json (imager layout).
    json ref;
    const fs::path img_root = fs::path(SEGFLOW_SHARED_DATA) / "composed" / "dev-small" / "img";
    INFO(img_root.string());
    REQUIRE(fs::is_directory(img_root));
    for (auto& e : fs::recursive_directory_iterator(img_root))
      if (e.path().filename() == "metadata.json")
        ref = read_json(e.path());
    REQUIRE_FALSE(ref.is_null());
    REQUIRE(meta.size() == ref.size());
    auto it = meta.begin();
    for (auto rt = ref.begin(); rt != ref.end(); ++rt, ++it) {
      INFO(rt.key());
      CHECK(it.key() == rt.key());
      CHECK(it->type() == rt->type());
    }
    CHECK(meta["sample_id"] == "synth-7");
    CHECK(meta["acq_id"] == res.acquisition_dir.filename().string());
    CHECK(meta["acq_camera_resolution"] == "320x240");
    CHECK(meta["acq_nb_frame"] == names.size());
    CHECK(meta["process_pixel"] == 0.75);
    // json.dump(indent=4) like the imager: 4-space indent, no trailing newline.
    const auto raw = read_bytes(meta_path);
    const std::string text(raw.begin(), raw.end());
    CHECK(text.rfind("{\n    \"sample_project\": ", 0) == 0);
    CHECK(text.back() == '}');
  }

  SECTION("integrity.check lists metadata.json and every frame with its size") {
    std::ifstream f(res.acquisition_dir / "integrity.check");
    std::string line;
    std::map<std::string, std::uintmax_t> sizes;
    int comments = 0;
    while (std::getline(f, line)) {
      if (line.rfind("#", 0) == 0) {
        ++comments;
        continue;
      }
      auto c1 = line.find(',');
      auto c2 = line.find(',', c1 + 1);
      REQUIRE(c2 != std::string::npos);
      CHECK(line.size() - c2 - 1 == 40); // sha1 hex
      sizes[line.substr(0, c1)] = std::stoull(line.substr(c1 + 1, c2 - c1 - 1));
    }
    CHECK(comments == 2);
    CHECK(sizes.size() == names.size() + 1);
    CHECK(sizes.at("metadata.json") == fs::file_size(res.acquisition_dir / "metadata.json"));
    for (auto& fr : gt["frames"]) {
      const std::string n = fr["file"];
      CHECK(sizes.at(n) == fs::file_size(res.acquisition_dir / n));
    }
  }

  SECTION("--bad files are what they claim") {
    REQUIRE(gt["bad"].size() == 5);
    REQUIRE(res.bad_files.size() == 5);
    std::set<std::string> kinds;
    for (auto& b : gt["bad"]) {
      const std::string fault = b["fault"];
      INFO(fault);
      kinds.insert(fault);
      const fs::path p = res.acquisition_dir / b["file"].get<std::string>();
      const auto bytes = read_bytes(p);
      CHECK(names[b["sorted_index"].get<std::size_t>()] == b["file"]);
      const cv::Mat decoded
        = bytes.empty() ? cv::Mat() : cv::imdecode(bytes, cv::IMREAD_COLOR);
      if (fault == "zero_byte") {
        CHECK(fs::file_size(p) == 0);
      } else if (fault == "truncated_jpeg") {
        REQUIRE(bytes.size() > 100);
        CHECK(jpeg_header_size(bytes) == std::make_pair(o.width, o.height));
        // No end-of-image marker, and shorter than a good frame of the set.
        CHECK_FALSE((bytes[bytes.size() - 2] == 0xFF && bytes.back() == 0xD9));
        std::uintmax_t smallest = UINTMAX_MAX;
        for (auto& f : res.frames)
          smallest = std::min(smallest, fs::file_size(f));
        CHECK(bytes.size() < smallest * 8 / 10);
      } else if (fault == "not_a_jpeg") {
        REQUIRE(bytes.size() > 100);
        CHECK_FALSE((bytes[0] == 0xFF && bytes[1] == 0xD8));
        CHECK(decoded.empty());
      } else if (fault == "one_by_one") {
        REQUIRE_FALSE(decoded.empty());
        CHECK(decoded.cols == 1);
        CHECK(decoded.rows == 1);
      } else if (fault == "different_size") {
        REQUIRE_FALSE(decoded.empty());
        CHECK(decoded.cols == o.width / 2);
        CHECK(decoded.rows == o.height / 2);
      }
    }
    CHECK(kinds == std::set<std::string>{"truncated_jpeg", "zero_byte", "not_a_jpeg",
                                         "one_by_one", "different_size"});
  }
}

TEST_CASE("synth: the ground truth agrees with the pixels", "[synth]") {
  temp_dir t;
  seg::synth_options o;
  o.out = t.path;
  o.frames = 4;
  o.objects = 10;
  o.seed = 3;
  auto res = seg::generate_acquisition(o);
  const json gt = read_json(res.ground_truth);
  const int w = o.width, h = o.height;
  const cv::Mat1f lum = luminance_from_truth(gt["illumination"], w, h);
  const auto& tint = gt["illumination"]["tint_bgr"];
  const cv::Rect frame(0, 0, w, h);

  int objects = 0, cut = 0, rings = 0, big = 0;
  for (auto& f : gt["frames"]) {
    const fs::path file = res.acquisition_dir / f["file"].get<std::string>();
    const cv::Mat3b img = cv::imread(file.string());
    REQUIRE(img.size() == cv::Size(w, h));
    const double gain = f["gain"];
    // The illumination the frame should show where there is no object.
    auto expected = [&](int x, int y, int c) {
      return lum(y, x) * tint[c].get<double>() * gain;
    };

    // Far from every object: the illumination plus noise (sigma 1.5) and JPEG
    // error.
    cv::Mat1b near(h, w, uchar{0});
    for (auto& ob : f["objects"])
      near(cv::Rect(rect_of(ob["full_bbox"]) + cv::Size(16, 16) - cv::Point(8, 8)) & frame)
        = 255;
    double sum = 0, abs_sum = 0;
    long n = 0, outliers = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        if (near(y, x))
          continue;
        for (int c = 0; c < 3; ++c) {
          const double d = img(y, x)[c] - expected(x, y, c);
          sum += d;
          abs_sum += std::abs(d);
          outliers += std::abs(d) > 8;
          ++n;
        }
      }
    REQUIRE(n > w * h); // most of the frame is background
    CHECK(std::abs(sum / n) < 0.7);
    CHECK(abs_sum / n < 2.5);
    CHECK(outliers < n / 1000);

    for (auto& ob : f["objects"]) {
      ++objects;
      const cv::Rect bbox = rect_of(ob["bbox"]);
      const int area = ob["area"];
      INFO("frame " << f["index"] << " object " << ob.dump());
      CHECK(area > 0);
      CHECK(area <= bbox.area());
      CHECK((bbox & frame) == bbox);
      CHECK(ob["full_area"].get<int>() >= area);
      if (area >= 315)
        ++big;
      if (ob["cut_by_frame_edge"].get<bool>()) {
        ++cut;
        CHECK(ob["full_area"].get<int>() > area);
        CHECK((bbox.x == 0 || bbox.y == 0 || bbox.br().x == w || bbox.br().y == h));
        continue;
      }
      CHECK(rect_of(ob["full_bbox"]) == bbox);
      // Inside: clearly darker than the illumination. Every object pixel has
      // transmission <= 0.9 (coverage >= 0.5 at opacity >= 0.195), so count
      // pixels below 0.93 of the illumination: about the area, give or take
      // the soft edge.
      double min_ratio = 1e9;
      int dark = 0;
      for (int y = bbox.y; y < bbox.br().y; ++y)
        for (int x = bbox.x; x < bbox.br().x; ++x) {
          const double ratio = img(y, x)[1] / expected(x, y, 1);
          min_ratio = std::min(min_ratio, ratio);
          dark += ratio < 0.93;
        }
      CHECK(min_ratio < 0.8);
      CHECK(dark >= 0.75 * area);
      CHECK(dark <= 1.35 * area + 10);
      if (ob["kind"] == "ring") {
        // A ring's hole is at its centre and lets the light through.
        ++rings;
        const int cx = bbox.x + bbox.width / 2;
        const int cy = bbox.y + bbox.height / 2;
        double s = 0, e = 0;
        for (int y = cy - 1; y <= cy + 1; ++y)
          for (int x = cx - 1; x <= cx + 1; ++x)
            s += img(y, x)[1], e += expected(x, y, 1);
        CHECK(s / e > 0.95);
        CHECK(ob["holes"] == 1);
      }
    }
  }
  CHECK(gt["total_objects"] == objects);
  CHECK(res.total_objects == objects);
  CHECK(objects >= 20);
  CHECK(cut >= 1);
  CHECK(rings >= 1);
  // Most objects pass the segmenter's size filter (equivalent diameter >= 20 px).
  CHECK(big >= 0.6 * objects);
}

TEST_CASE("synth: objects per frame average --objects", "[synth]") {
  seg::synth_options o;
  o.out = "unused";
  o.width = 640;
  o.height = 480;
  o.objects = 8;
  o.seed = 5;
  seg::synth_generator g(o);
  double drawn = 0;
  const int n = 40;
  for (int i = 0; i < n; ++i) {
    seg::synth_frame_truth ft;
    g.frame(i, &ft);
    CHECK(ft.index == i);
    CHECK(ft.objects.size() + ft.dropped == static_cast<std::size_t>(ft.drawn));
    drawn += ft.drawn;
  }
  // Poisson(8): the mean of 40 draws has sd sqrt(8 / 40) = 0.45; allow 3 sd.
  CHECK(drawn / n == Approx(8).margin(1.35));
}

TEST_CASE("synth: --dense frames draw their own count, the others are unchanged", "[synth]") {
  seg::synth_options o;
  o.out = "unused";
  o.width = 640;
  o.height = 480;
  o.objects = 4;
  o.seed = 9;
  auto dense = o;
  dense.dense_first = 3;
  dense.dense_count = 2;
  dense.dense_objects = 60;
  REQUIRE(seg::validate(dense).empty());
  seg::synth_generator plain(o);
  seg::synth_generator g(dense);
  for (int i = 0; i < 7; ++i) {
    seg::synth_frame_truth a, b;
    cv::Mat fa = plain.frame(i, &a);
    cv::Mat fb = g.frame(i, &b);
    INFO("frame " << i);
    if (i == 3 || i == 4) {
      CHECK(b.drawn > 30); // Poisson(60): below 30 has probability < 1e-5
    } else {
      CHECK(b.drawn == a.drawn);
      CHECK(cv::norm(fa, fb, cv::NORM_INF) == 0);
    }
  }
  CHECK(seg::synth_acq_id(dense) == seg::synth_acq_id(o) + "-d3+2k60");
  dense.dense_count = -1;
  CHECK(seg::validate(dense).find("--dense") != std::string::npos);
}

TEST_CASE("synth: validate names the offending option", "[synth]") {
  seg::synth_options o;
  CHECK(seg::validate(o).find("--out") != std::string::npos);
  o.out = "x";
  CHECK(seg::validate(o).empty());
  auto bad = [&](auto change, const std::string& option) {
    auto c = o;
    change(c);
    INFO(option);
    CHECK(seg::validate(c).find(option) != std::string::npos);
  };
  bad([](seg::synth_options& c) { c.frames = 0; }, "--frames");
  bad([](seg::synth_options& c) { c.width = 10; }, "--width");
  bad([](seg::synth_options& c) { c.height = 100000; }, "--height");
  bad([](seg::synth_options& c) { c.objects = -1; }, "--objects");
  bad([](seg::synth_options& c) { c.crops = "/nonexistent/segflow/crops"; }, "--crops");
  bad([](seg::synth_options& c) { c.stuck = 101; }, "--stuck");
  CHECK_THROWS_AS(seg::generate_acquisition(seg::synth_options{}), std::invalid_argument);
}
