// segflow synth --seam-grid: particles placed where a tiled segmentation
// must merge pieces (across corners, on seams, across three tiles, holes on
// seams, at the frame border) or must leave an object near a seam whole;
// checked against the frame's pixels, not only against the ground truth.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "tests/support/temp_dir.hpp"
#include "tools/synth/synth.hpp"

namespace fs = std::filesystem;

namespace {

seg::synth_options seam_options() {
  seg::synth_options o;
  o.out = "unused";
  o.width = 1700;
  o.height = 1100;
  o.objects = 6;
  o.seed = 11;
  o.seam_grids = {cv::Size(400, 300), cv::Size(700, 500)};
  return o;
}

// Tile cores of `grid` in which the frame shows at least 3 pixels of the
// object inside `bbox` clearly darker (< 0.85) than the illumination.
int dark_tiles(const cv::Mat3b& img, const seg::synth_generator& g, double gain,
               const cv::Rect& bbox, cv::Size grid) {
  const cv::Mat1f& lum = g.luminance();
  const double tint = g.illumination().tint_bgr[1];
  std::map<std::pair<int, int>, int> dark;
  for (int y = bbox.y; y < bbox.br().y; ++y)
    for (int x = bbox.x; x < bbox.br().x; ++x)
      if (img(y, x)[1] < 0.85 * lum(y, x) * tint * gain)
        ++dark[{x / grid.width, y / grid.height}];
  int n = 0;
  for (auto& [tile, count] : dark)
    n += count >= 3;
  return n;
}

// The frame lets the light through at the hole's centre.
bool hole_is_bright(const cv::Mat3b& img, const seg::synth_generator& g, double gain,
                    const cv::Rect& hole) {
  const int cx = hole.x + hole.width / 2, cy = hole.y + hole.height / 2;
  const double tint = g.illumination().tint_bgr[1];
  double seen = 0, expected = 0;
  for (int y = cy - 1; y <= cy + 1; ++y)
    for (int x = cx - 1; x <= cx + 1; ++x)
      seen += img(y, x)[1], expected += g.luminance()(y, x) * tint * gain;
  return seen / expected > 0.93;
}

// The interior seams of `grid` that `lo`..`hi` (inclusive) lies across.
int seams_crossed(int lo, int hi, int tile) {
  return hi / tile - lo / tile;
}

std::vector<std::uint8_t> read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

} // namespace

TEST_CASE("synth: --seam-grid places every case on the grid's seams", "[synth][seams]") {
  auto o = seam_options();
  o.seed = GENERATE(11, 12, 13);
  REQUIRE(seg::validate(o).empty());
  seg::synth_generator g(o);
  const int w = o.width, h = o.height;
  std::map<std::string, int> cases; // "<grid>/<case>" -> objects
  int random = 0, dropped = 0;
  const int frames = 4;
  for (int i = 0; i < frames; ++i) {
    seg::synth_frame_truth ft;
    const cv::Mat3b img = g.frame(i, &ft);
    dropped += ft.seam_dropped;
    std::vector<cv::Rect> boxes;
    for (const auto& ob : ft.objects) {
      for (const auto& other : boxes)
        CHECK((ob.bbox & other).area() == 0); // kept apart: one segment each
      boxes.push_back(ob.bbox);
      if (ob.seam.empty()) {
        ++random;
        CHECK(ob.tiles == 0);
        continue;
      }
      const cv::Size grid = ob.seam_grid;
      cases[std::to_string(grid.width) + "/" + ob.seam]++;
      INFO("frame " << i << " " << ob.seam << " grid " << grid.width << "x" << grid.height
                    << " kind " << ob.kind << " bbox " << ob.bbox << " tiles " << ob.tiles);
      const cv::Rect& b = ob.bbox;
      const int across_x = seams_crossed(b.x, b.br().x - 1, grid.width);
      const int across_y = seams_crossed(b.y, b.br().y - 1, grid.height);
      // The ground truth's tile count is what the pixels show.
      CHECK(dark_tiles(img, g, ft.gain, b, grid) == ob.tiles);
      if (ob.seam == "corner" || ob.seam == "hole_on_corner") {
        CHECK(ob.tiles == 4);
        CHECK(across_x == 1);
        CHECK(across_y == 1);
      } else if (ob.seam == "seam_v") {
        CHECK(ob.tiles == 2);
        CHECK(across_x == 1);
        CHECK(across_y == 0);
      } else if (ob.seam == "seam_h") {
        CHECK(ob.tiles == 2);
        CHECK(across_x == 0);
        CHECK(across_y == 1);
      } else if (ob.seam == "three_tiles") {
        CHECK(ob.kind == "rod");
        CHECK(ob.tiles == 3);
        CHECK(across_x == 1);
        CHECK(across_y == 1);
      } else if (ob.seam == "hole_on_seam") {
        CHECK(ob.tiles >= 2);
        CHECK(across_x + across_y >= 1);
      } else if (ob.seam == "border") {
        CHECK(ob.tiles >= 2);
        CHECK(ob.cut_by_frame_edge);
        CHECK((b.x == 0 || b.y == 0 || b.br().x == w || b.br().y == h));
      } else if (ob.seam == "near_seam") {
        CHECK(ob.tiles == 1);
        CHECK(across_x + across_y == 0);
        CHECK_FALSE(ob.cut_by_frame_edge);
        // Within 12 px of a seam: in the halo of the tile beyond it.
        const auto gap_to_seam = [](int lo, int hi, int tile) {
          const int before = tile - 1 - hi % tile; // px between hi and the next seam
          const int after = lo % tile;             // px between the last seam and lo
          return std::min(before, after);
        };
        const bool near_x = gap_to_seam(b.x, b.br().x - 1, grid.width) <= 12
                            && b.br().x + 12 < w && b.x > 12;
        const bool near_y = gap_to_seam(b.y, b.br().y - 1, grid.height) <= 12
                            && b.br().y + 12 < h && b.y > 12;
        CHECK((near_x || near_y));
      } else {
        FAIL("unknown seam case " << ob.seam);
      }
      if (ob.seam.rfind("hole_", 0) == 0) {
        REQUIRE(ob.holes == 1);
        const cv::Rect& hole = ob.hole_bbox;
        CHECK((hole & b) == hole);
        CHECK(hole_is_bright(img, g, ft.gain, hole));
        const bool hole_across_x = seams_crossed(hole.x, hole.br().x - 1, grid.width) == 1;
        const bool hole_across_y = seams_crossed(hole.y, hole.br().y - 1, grid.height) == 1;
        if (ob.seam == "hole_on_corner")
          CHECK((hole_across_x && hole_across_y));
        else
          CHECK((hole_across_x || hole_across_y));
      }
    }
  }
  // Both grids have several corners and seams in both directions (400x300:
  // 12 corners, 700x500: 4): every case finds a place in almost every frame.
  for (const std::string grid : {"400", "700"})
    for (const char* c : {"corner", "seam_v", "seam_h", "three_tiles", "hole_on_seam",
                          "hole_on_corner", "border", "near_seam"}) {
      INFO(grid << "/" << c);
      CHECK(cases[grid + "/" + c] >= frames - 1);
    }
  CHECK(dropped <= 3);
  CHECK(random >= frames * 2);
}

TEST_CASE("synth: a grid without horizontal seams gets only the cases it has seams for",
          "[synth][seams]") {
  auto o = seam_options();
  o.seam_grids = {cv::Size(1000, 4096)}; // one vertical seam at x = 1000
  seg::synth_generator g(o);
  std::set<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    seg::synth_frame_truth ft;
    g.frame(i, &ft);
    for (const auto& ob : ft.objects)
      if (!ob.seam.empty()) {
        seen.insert(ob.seam);
        CHECK(ob.seam_grid == cv::Size(1000, 4096));
        if (ob.seam == "near_seam")
          CHECK((ob.bbox.br().x <= 1000 || ob.bbox.x >= 1000));
        else
          CHECK((ob.bbox.x < 1000 && ob.bbox.br().x > 1000));
      }
  }
  CHECK(seen == std::set<std::string>{"seam_v", "hole_on_seam", "border", "near_seam"});
}

TEST_CASE("synth: --seam-grid acquisitions are byte-identical for the same options",
          "[synth][seams]") {
  seg::test::temp_dir a, b;
  auto oa = seam_options();
  oa.out = a.path;
  oa.frames = 3;
  auto ob = oa;
  ob.out = b.path;
  const auto ra = seg::generate_acquisition(oa);
  seg::generate_acquisition(ob);
  CHECK(ra.acquisition_dir.filename() == "synth-11-3f-1700x1100-k6-g400x300+700x500");
  for (const auto& f : ra.frames) {
    INFO(f.filename());
    CHECK(read_bytes(f) == read_bytes(b.path / fs::relative(f, a.path)));
  }
  CHECK(read_bytes(ra.ground_truth) == read_bytes(b.path / "ground_truth.json"));

  std::ifstream in(ra.ground_truth);
  const auto gt = nlohmann::json::parse(in);
  CHECK(gt["options"]["seam_grids"] == nlohmann::json::parse("[[400, 300], [700, 500]]"));
  int seam_objects = 0;
  for (auto& f : gt["frames"])
    for (auto& obj : f["objects"])
      if (obj.contains("seam")) {
        ++seam_objects;
        CHECK(obj["seam"]["tiles"].get<int>() >= 1);
        CHECK(obj["seam"].contains("hole_bbox") == (obj["holes"].get<int>() > 0));
      }
  CHECK(seam_objects >= 3 * 12);

  SECTION("other grids give other frames, the illumination stays") {
    auto oc = oa;
    seg::test::temp_dir c;
    oc.out = c.path;
    oc.seam_grids = {cv::Size(500, 500)};
    const auto rc = seg::generate_acquisition(oc);
    CHECK(read_bytes(rc.frames[0]) != read_bytes(ra.frames[0]));
    CHECK(cv::norm(seg::synth_generator(oc).luminance(), seg::synth_generator(oa).luminance(),
                   cv::NORM_INF)
          == 0);
  }
}

TEST_CASE("synth: --seam-grid is checked", "[synth][seams]") {
  auto o = seam_options();
  auto bad = [&](std::vector<cv::Size> grids, const std::string& says) {
    auto c = o;
    c.seam_grids = std::move(grids);
    const auto err = seg::validate(c);
    INFO(err);
    CHECK(err.find("--seam-grid") != std::string::npos);
    CHECK(err.find(says) != std::string::npos);
  };
  bad({cv::Size(1700, 1100)}, "does not cut a 1700x1100 frame");
  bad({cv::Size(2000, 4000)}, "does not cut");
  bad({cv::Size(32, 300)}, "at least 64x64");
  bad(std::vector<cv::Size>(9, cv::Size(100, 100)), "at most 8");
  o.seam_grids = {cv::Size(1700, 1000)}; // one horizontal seam is enough
  CHECK(seg::validate(o).empty());
}
