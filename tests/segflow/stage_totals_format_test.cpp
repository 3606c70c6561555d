// The summary's stage totals: every field in the JSON, as a number, tiled or
// not; the tiles' line in the text only when the job tiled frames.
#include "tools/segflow/stage_totals_format.hpp"

#include <iterator>

#include <catch2/catch.hpp>

using seg::cli::stages_json;
using seg::cli::stages_text;

namespace {

seg::stage_totals tiled_totals() {
  seg::stage_totals s;
  s.read_ms = 1.5;
  s.decode_ms = 20;
  s.exporter_wait_ms = 4;
  s.tiles = 12;
  s.tile_pixels = 1'150'000;
  s.tiled_frame_pixels = 1'000'000;
  s.tile_read_ms = 31.3;
  s.tile_segment_ms = 42.5;
  s.stitch_ms = 7.7;
  s.stitch_wait_ms = 55;
  s.held_back_ms = 3.5;
  return s;
}

} // namespace

TEST_CASE("stage totals JSON: every field a number, the tile fields too",
          "[segflow][summary]") {
  auto j = stages_json(tiled_totals());
  const char* keys[] = {"read_ms", "decode_ms", "correct_ms", "mask_ms", "label_features_ms",
                        "crops_ms", "commit_ms", "export_ms", "flat_ms", "worker_wait_ms",
                        "exporter_wait_ms", "tiles", "tile_pixels", "tiled_frame_pixels",
                        "tile_read_ms", "tile_segment_ms", "stitch_ms", "stitch_wait_ms",
                        "held_back_ms"};
  CHECK(j.size() == std::size(keys));
  for (auto* k : keys) {
    INFO(k);
    REQUIRE(j.contains(k));
    CHECK(j[k].is_number());
  }
  CHECK(j["tiles"].get<double>() == 12);
  CHECK(j["tile_pixels"].get<double>() == 1'150'000);
  CHECK(j["tiled_frame_pixels"].get<double>() == 1'000'000);
  CHECK(j["tile_read_ms"].get<double>() == 31.3);
  CHECK(j["tile_segment_ms"].get<double>() == 42.5);
  CHECK(j["stitch_ms"].get<double>() == 7.7);
  CHECK(j["stitch_wait_ms"].get<double>() == 55);
  CHECK(j["held_back_ms"].get<double>() == 3.5);
  CHECK(j["decode_ms"].get<double>() == 20);

  // Untiled: the same keys, zero.
  auto u = stages_json(seg::stage_totals{});
  CHECK(u.size() == std::size(keys));
  CHECK(u["tiles"].is_number());
  CHECK(u["tiles"].get<double>() == 0);
  CHECK(u["stitch_wait_ms"].get<double>() == 0);
}

TEST_CASE("stage totals text: the tiles' line only when frames were tiled",
          "[segflow][summary]") {
  auto untiled = tiled_totals();
  untiled.tiles = 0;
  auto u = stages_text(untiled);
  CHECK(u.find("read 1.5, decode 20.0,") == 0);
  CHECK(u.find("exporter waited 4.0") != std::string::npos);
  CHECK(u.find('\n') == std::string::npos);
  CHECK(u.find("tile") == std::string::npos);

  auto t = stages_text(tiled_totals());
  CHECK(t.find(u) == 0); // the frame stages as untiled, then the tiles' line
  CHECK(t.substr(u.size())
        == "\n    tiles 12 (pixel work 1.150x the frames'): read 31.3, segment 42.5, "
           "stitch 7.7; stitcher waited 55.0, workers held back 3.5");
}
