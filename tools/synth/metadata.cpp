#include "tools/synth/metadata.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "tools/synth/prng.hpp"

using json = nlohmann::ordered_json;

namespace seg::detail {

// Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
void civil_from_days(std::int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(m > 2 ? m - 3 : m + 9) + 2) / 5
                       + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

stamp to_stamp(std::int64_t us) {
  stamp s{};
  const std::int64_t secs = us / 1000000;
  s.micro = static_cast<int>(us % 1000000);
  civil_from_days(secs / 86400, s.year, s.month, s.day);
  const auto sod = static_cast<int>(secs % 86400);
  s.hour = sod / 3600;
  s.minute = sod / 60 % 60;
  s.second = sod % 60;
  return s;
}

std::string frame_name(const stamp& s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d_%02d-%02d-%02d-%06d.jpg", s.year, s.month,
                s.day, s.hour, s.minute, s.second, s.micro);
  return buf;
}

namespace {

// SHA-1 (FIPS 180-4), for the imager's integrity file; not a security use.
class sha1 {
public:
  void update(const void* data, std::size_t n) {
    auto p = static_cast<const std::uint8_t*>(data);
    total_ += n;
    while (n > 0) {
      const std::size_t k = std::min(n, std::size_t{64} - fill_);
      std::memcpy(buf_ + fill_, p, k);
      fill_ += k, p += k, n -= k;
      if (fill_ == 64) {
        block(buf_);
        fill_ = 0;
      }
    }
  }

  std::string hex() {
    const std::uint64_t bits = total_ * 8;
    const std::uint8_t pad = 0x80;
    update(&pad, 1);
    const std::uint8_t zero = 0;
    while (fill_ != 56)
      update(&zero, 1);
    std::uint8_t len[8];
    for (int i = 0; i < 8; ++i)
      len[i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
    update(len, 8);
    char out[41];
    for (int i = 0; i < 5; ++i)
      std::snprintf(out + 8 * i, 9, "%08x", h_[i]);
    return std::string(out, 40);
  }

private:
  static std::uint32_t rotl(std::uint32_t x, int k) {
    return (x << k) | (x >> (32 - k));
  }
  void block(const std::uint8_t* b) {
    std::uint32_t w[80];
    for (int i = 0; i < 16; ++i)
      w[i] = std::uint32_t{b[4 * i]} << 24 | std::uint32_t{b[4 * i + 1]} << 16
             | std::uint32_t{b[4 * i + 2]} << 8 | b[4 * i + 3];
    for (int i = 16; i < 80; ++i)
      w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h_[0], bb = h_[1], c = h_[2], d = h_[3], e = h_[4];
    for (int i = 0; i < 80; ++i) {
      std::uint32_t f, k;
      if (i < 20)
        f = (bb & c) | (~bb & d), k = 0x5A827999;
      else if (i < 40)
        f = bb ^ c ^ d, k = 0x6ED9EBA1;
      else if (i < 60)
        f = (bb & c) | (bb & d) | (c & d), k = 0x8F1BBCDC;
      else
        f = bb ^ c ^ d, k = 0xCA62C1D6;
      const std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
      e = d, d = c, c = rotl(bb, 30), bb = a, a = t;
    }
    h_[0] += a, h_[1] += bb, h_[2] += c, h_[3] += d, h_[4] += e;
  }

  std::uint32_t h_[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::uint8_t buf_[64] = {};
  std::size_t fill_ = 0;
  std::uint64_t total_ = 0;
};


} // namespace

std::string integrity_line(const std::string& name, const std::vector<uchar>& data) {
  sha1 h;
  h.update(name.data(), name.size());
  const char nul = 0;
  h.update(&nul, 1);
  h.update(data.data(), data.size());
  return name + "," + std::to_string(data.size()) + "," + h.hex() + "\n";
}

namespace {

std::string uuid4(prng& r) {
  std::uint8_t b[16];
  for (int i = 0; i < 16; i += 8) {
    const std::uint64_t x = r.next();
    for (int j = 0; j < 8; ++j)
      b[i + j] = static_cast<std::uint8_t>(x >> (8 * j));
  }
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                b[13], b[14], b[15]);
  return out;
}

} // namespace

json make_metadata(const synth_options& o, const std::string& sample_id,
                   const std::string& acq_id, const stamp& start, int n_files) {
  char date[16], hm[8], local[32];
  std::snprintf(date, sizeof date, "%04d%02d%02d", start.year, start.month, start.day);
  std::snprintf(hm, sizeof hm, "%02d%02d", start.hour, start.minute);
  std::snprintf(local, sizeof local, "%04d-%02d-%02dT%02d:%02d:%02d", start.year, start.month,
                start.day, start.hour, start.minute, start.second);
  prng r(derive(o.seed, tag_metadata));
  json m;
  m["sample_project"] = "segflow-synth";
  m["sample_id"] = sample_id;
  m["sample_ship"] = "";
  m["sample_operator"] = "segflow synth";
  m["sample_sampling_gear"] = "net";
  m["acq_id"] = acq_id;
  m["acq_instrument"] = "PlanktoScope v2.6";
  m["acq_instrument_id"] = "synth-planktoscope-0001";
  m["acq_celltype"] = 300;
  m["acq_minimum_mesh"] = 20;
  m["acq_maximum_mesh"] = 200;
  m["acq_volume"] = "5.00";
  m["acq_imaged_volume"] = "2.0807";
  m["acq_magnification"] = 1.2;
  m["acq_fnumber_objective"] = 12;
  m["acq_camera"] = "HQ Camera";
  m["acq_nb_frame"] = n_files;
  m["acq_software"] = "PlanktoScope v2024.0.0-beta.1";
  m["object_date"] = date;
  m["object_time"] = hm;
  m["object_lat"] = "36.9579";
  m["object_lon"] = "-122.0178";
  m["object_depth_min"] = 1;
  m["object_depth_max"] = 10;
  m["process_pixel"] = 0.75;
  m["process_source"] = "github.com/PlanktoScope/PlanktoScope";
  m["process_commit"] = "bdaaab2b8ad80b31974de4653311ca161abacf76";
  m["sample_gear_net_opening"] = 40;
  m["object_date_end"] = date;
  m["object_time_end"] = hm;
  m["object_lat_end"] = "36.9579";
  m["object_lon_end"] = "-122.0178";
  m["acq_local_datetime"] = local;
  m["acq_camera_resolution"] = std::to_string(o.width) + "x" + std::to_string(o.height);
  m["acq_camera_iso"] = 346;
  m["acq_camera_shutter_speed"] = 144;
  m["acq_uuid"] = uuid4(r);
  m["sample_uuid"] = uuid4(r);
  return m;
}

namespace {

json rect_json(const cv::Rect& r) {
  return json::array({r.x, r.y, r.width, r.height});
}

json object_json(const synth_object& t) {
  json j;
  j["kind"] = t.kind;
  j["bbox"] = rect_json(t.bbox);
  j["full_bbox"] = rect_json(t.full_bbox);
  j["cut_by_frame_edge"] = t.cut_by_frame_edge;
  j["area"] = t.area;
  j["full_area"] = t.full_area;
  j["holes"] = t.holes;
  j["opacity"] = t.opacity;
  if (t.stuck)
    j["stuck"] = true;
  if (!t.seam.empty()) {
    json seam;
    seam["case"] = t.seam;
    seam["grid"] = {t.seam_grid.width, t.seam_grid.height};
    seam["tiles"] = t.tiles;
    if (t.holes > 0)
      seam["hole_bbox"] = rect_json(t.hole_bbox);
    j["seam"] = std::move(seam);
  }
  if (t.kind == "crop") {
    j["crop"] = t.crop;
    j["flip"] = t.flip;
    j["paste_rect"] = rect_json(t.paste_rect);
  }
  return j;
}

} // namespace

json objects_json(const std::vector<synth_object>& objs) {
  json a = json::array();
  for (auto& t : objs)
    a.push_back(object_json(t));
  return a;
}

json illumination_json(const synth_illumination_params& p, const cv::Mat1f& lum) {
  json j;
  j["model"] = "lum = centre_level * (1 - vignette_a r^2 - vignette_b r^4) * "
               "(1 + gradient[0] (2x/w - 1) + gradient[1] (2y/h - 1)) * prod_dust (1 - depth "
               "profile); r^2 = ((x - axis[0])^2 + (y - axis[1])^2) / ((w/2)^2 + (h/2)^2); "
               "pixel (x, y) at integer coordinates; speck profile exp(-d^2 / (2 radius^2)), "
               "ring profile exp(-(d - radius)^2 / (2 (0.18 radius)^2)), both applied within "
               "4 radius + 4 px; channel c = lum * tint_bgr[c]";
  j["centre_level"] = p.centre_level;
  j["axis"] = {p.axis_x, p.axis_y};
  j["vignette_a"] = p.vignette_a;
  j["vignette_b"] = p.vignette_b;
  j["gradient"] = {p.gradient_x, p.gradient_y};
  j["tint_bgr"] = {p.tint_bgr[0], p.tint_bgr[1], p.tint_bgr[2]};
  json dust = json::array();
  for (auto& d : p.dust)
    dust.push_back(
      {{"x", d.x}, {"y", d.y}, {"radius", d.radius}, {"depth", d.depth}, {"ring", d.ring}});
  j["dust"] = dust;
  double lo = 0, hi = 0;
  cv::minMaxLoc(lum, &lo, &hi);
  j["lum_min"] = lo;
  j["lum_mean"] = cv::mean(lum)[0];
  j["lum_max"] = hi;
  return j;
}

json options_json(const synth_options& o) {
  json j;
  j["frames"] = o.frames;
  j["width"] = o.width;
  j["height"] = o.height;
  j["objects"] = o.objects;
  j["seed"] = o.seed;
  j["crops"] = o.crops.string();
  j["bad"] = o.bad;
  if (o.stuck > 0) // absent when 0, so earlier ground truths still match
    j["stuck"] = o.stuck;
  if (o.dense_count > 0) // only when used: earlier ground truths stay equal
    j["dense"] = {{"first", o.dense_first}, {"count", o.dense_count},
                  {"objects", o.dense_objects}};
  if (!o.seam_grids.empty()) { // only when used: earlier ground truths stay equal
    json grids = json::array();
    for (const auto& g : o.seam_grids)
      grids.push_back({g.width, g.height});
    j["seam_grids"] = std::move(grids);
  }
  return j;
}

} // namespace seg::detail
