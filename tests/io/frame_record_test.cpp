#include "actors/io/frame_record.hpp"

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "actors/io/atomic_file.hpp"
#include "actors/io/io_error.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using seg::kernels::object_features;

namespace {

using seg::test::temp_dir;

bool same_bits(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// Every member, listed by hand: a member the record forgets fails here.
void require_same(const object_features& a, const object_features& b) {
  CHECK(a.width == b.width);
  CHECK(a.height == b.height);
  CHECK(a.bx == b.bx);
  CHECK(a.by == b.by);
  CHECK(a.euler_number == b.euler_number);
  const double object_features::*reals[] = {
    &object_features::circ, &object_features::area_exc, &object_features::area,
    &object_features::percent_area, &object_features::major, &object_features::minor,
    &object_features::y, &object_features::x, &object_features::convex_area,
    &object_features::perimeter, &object_features::elongation,
    &object_features::perim_area_exc, &object_features::perim_major,
    &object_features::circex, &object_features::angle, &object_features::bounding_box_area,
    &object_features::eccentricity, &object_features::equivalent_diameter,
    &object_features::extent, &object_features::local_centroid_col,
    &object_features::local_centroid_row, &object_features::solidity,
    &object_features::blur_laplacian, &object_features::mean_hue,
    &object_features::mean_saturation, &object_features::mean_value,
    &object_features::std_hue, &object_features::std_saturation,
    &object_features::std_value};
  int k = 0;
  for (auto m : reals) {
    INFO("real member #" << k++ << ": " << a.*m << " vs " << b.*m);
    CHECK(same_bits(a.*m, b.*m));
  }
}

// Distinct awkward values in every member.
object_features awkward_features(int seed) {
  const double values[] = {0.1,
                           1.0 / 3.0,
                           1e-300,
                           5e-324,
                           -0.0,
                           1.7976931348623157e308,
                           1505.0,
                           2.0 / 3.0,
                           std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           123456789012345678.0,
                           0.7233942914192866};
  const int n = sizeof values / sizeof values[0];
  object_features f;
  f.width = 59 + seed;
  f.height = 39;
  f.bx = 0;
  f.by = 2147483647;
  f.euler_number = -3;
  double object_features::*reals[] = {
    &object_features::circ, &object_features::area_exc, &object_features::area,
    &object_features::percent_area, &object_features::major, &object_features::minor,
    &object_features::y, &object_features::x, &object_features::convex_area,
    &object_features::perimeter, &object_features::elongation,
    &object_features::perim_area_exc, &object_features::perim_major,
    &object_features::circex, &object_features::angle, &object_features::bounding_box_area,
    &object_features::eccentricity, &object_features::equivalent_diameter,
    &object_features::extent, &object_features::local_centroid_col,
    &object_features::local_centroid_row, &object_features::solidity,
    &object_features::blur_laplacian, &object_features::mean_hue,
    &object_features::mean_saturation, &object_features::mean_value,
    &object_features::std_hue, &object_features::std_saturation,
    &object_features::std_value};
  int k = seed;
  for (auto m : reals) {
    // Scale so that no two members hold the same value.
    const double v = values[k % n];
    f.*m = std::isfinite(v) && v != 0 && std::fabs(v) < 1e300 ? v * (1 + k * 0.125) : v;
    ++k;
  }
  return f;
}

seg::io::frame_record sample_record() {
  seg::io::frame_record rec;
  rec.frame = "2025-09-11_16-51-00-618912.jpg";
  rec.frame_index = 3;
  for (int i = 0; i < 3; ++i)
    rec.objects.push_back({i, awkward_features(i),
                           "2025-09-11_16-51-00-618912_" + std::to_string(i) + ".jpg"});
  return rec;
}

std::string message_of(const fs::path& file) {
  try {
    seg::io::read_frame_record(file);
  } catch (const seg::io::io_error& e) {
    return e.what();
  }
  return "(no io_error)";
}

} // namespace

TEST_CASE("frame records round-trip exactly, doubles included", "[io]") {
  temp_dir d;
  const auto rec = sample_record();
  const fs::path file = d.path / "frame.jsonl";
  seg::io::write_frame_record(file, rec);
  const auto back = seg::io::read_frame_record(file);
  CHECK(back.frame == rec.frame);
  CHECK(back.frame_index == 3);
  REQUIRE(back.objects.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(back.objects[i].index == static_cast<int>(i));
    CHECK(back.objects[i].crop_file == rec.objects[i].crop_file);
    require_same(back.objects[i].features, rec.objects[i].features);
  }
  // One header line plus one line per object, each ending with '\n'.
  const std::string text = seg::io::read_file(file);
  CHECK(std::count(text.begin(), text.end(), '\n') == 4);
  CHECK(text.find("\"format\":\"segflow-frame-record\"") != std::string::npos);

  seg::io::frame_record empty;
  empty.frame = "a b.jpg";
  seg::io::write_frame_record(file, empty);
  const auto e = seg::io::read_frame_record(file);
  CHECK(e.frame == "a b.jpg");
  CHECK(e.objects.empty());
}

TEST_CASE("damaged frame records are refused with the file name", "[io]") {
  temp_dir d;
  const std::string text = seg::io::serialize_frame_record(sample_record());
  const fs::path file = d.path / "frame.jsonl";

  // Cut in the middle of the last line.
  seg::io::write_file_atomic(file, text.substr(0, text.size() - 20));
  CHECK_THAT(message_of(file), Catch::Contains(file.string()) && Catch::Contains("truncated"));

  // A whole object line missing.
  const auto second_last_nl = text.rfind('\n', text.size() - 2);
  seg::io::write_file_atomic(file, text.substr(0, second_last_nl + 1));
  CHECK_THAT(message_of(file), Catch::Contains(file.string()) && Catch::Contains("2 of 3"));

  seg::io::write_file_atomic(file, std::string_view(""));
  CHECK_THAT(message_of(file), Catch::Contains(file.string()) && Catch::Contains("empty"));

  seg::io::write_file_atomic(file, std::string_view("{not json\n"));
  CHECK_THAT(message_of(file), Catch::Contains(file.string()) && Catch::Contains("line 1"));

  std::string bad_field = text;
  bad_field.replace(bad_field.find("\"i\":0"), 5, "\"i\":\"zero\"");
  seg::io::write_file_atomic(file, bad_field);
  CHECK_THAT(message_of(file), Catch::Contains("line 2") && Catch::Contains("\"i\""));

  CHECK_THAT(message_of(d.path / "absent.jsonl"), Catch::Contains("absent.jsonl"));
}
