#include "tools/segflow/stage_totals_format.hpp"

#include <cstdio>

namespace seg::cli {

namespace {

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

} // namespace

nlohmann::ordered_json stages_json(const stage_totals& s) {
  nlohmann::ordered_json j;
  j["read_ms"] = s.read_ms;
  j["decode_ms"] = s.decode_ms;
  j["correct_ms"] = s.correct_ms;
  j["mask_ms"] = s.mask_ms;
  j["label_features_ms"] = s.label_features_ms;
  j["crops_ms"] = s.crops_ms;
  j["commit_ms"] = s.commit_ms;
  j["export_ms"] = s.export_ms;
  j["flat_ms"] = s.flat_ms;
  j["worker_wait_ms"] = s.worker_wait_ms;
  j["exporter_wait_ms"] = s.exporter_wait_ms;
  j["tiles"] = s.tiles;
  j["tile_pixels"] = s.tile_pixels;
  j["tiled_frame_pixels"] = s.tiled_frame_pixels;
  j["tile_read_ms"] = s.tile_read_ms;
  j["tile_segment_ms"] = s.tile_segment_ms;
  j["stitch_ms"] = s.stitch_ms;
  j["stitch_wait_ms"] = s.stitch_wait_ms;
  j["held_back_ms"] = s.held_back_ms;
  return j;
}

std::string stages_text(const stage_totals& s) {
  std::string out = "read " + fixed(s.read_ms, 1) + ", decode " + fixed(s.decode_ms, 1)
                    + ", correct " + fixed(s.correct_ms, 1) + ", mask " + fixed(s.mask_ms, 1)
                    + ", label+features " + fixed(s.label_features_ms, 1) + ", crops "
                    + fixed(s.crops_ms, 1) + ", commit " + fixed(s.commit_ms, 1) + ", export "
                    + fixed(s.export_ms, 1) + "; workers waited " + fixed(s.worker_wait_ms, 1)
                    + ", exporter waited " + fixed(s.exporter_wait_ms, 1);
  if (s.tiles <= 0)
    return out;
  // Pixel work: the halos make the tiles' pixels more than the frames'.
  double work = s.tiled_frame_pixels > 0 ? s.tile_pixels / s.tiled_frame_pixels : 0;
  out += "\n    tiles " + fixed(s.tiles, 0) + " (pixel work " + fixed(work, 3)
         + "x the frames'): read " + fixed(s.tile_read_ms, 1) + ", segment "
         + fixed(s.tile_segment_ms, 1) + ", stitch " + fixed(s.stitch_ms, 1)
         + "; stitcher waited " + fixed(s.stitch_wait_ms, 1) + ", workers held back "
         + fixed(s.held_back_ms, 1);
  return out;
}

} // namespace seg::cli
