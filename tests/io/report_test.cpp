#include "actors/io/report/size_spectrum.hpp"

#include <cmath>
#include <fstream>

#include <catch2/catch.hpp>

#include "actors/io/io_error.hpp"
#include "actors/io/report/html_text.hpp"
#include "actors/io/report/run_record.hpp"
#include "actors/io/report/svg_plot.hpp"
#include "tests/support/temp_dir.hpp"

using namespace seg::io::report;

namespace {

constexpr double pi = 3.14159265358979323846;

} // namespace

TEST_CASE("size classes are contiguous quarter octaves holding every object", "[report]") {
  std::vector<double> esd = {20, 20.5, 23.9, 24, 47.9, 48, 100, 1000};
  auto bins = size_spectrum(esd, std::nullopt);
  REQUIRE(!bins.empty());
  long total = 0;
  for (std::size_t i = 0; i < bins.size(); ++i) {
    CHECK(bins[i].hi == Approx(bins[i].lo * std::exp2(0.25)));
    if (i > 0)
      CHECK(bins[i].lo == bins[i - 1].hi);
    total += bins[i].count;
  }
  CHECK(total == long(esd.size()));
  CHECK(bins.front().lo <= 20);
  CHECK(bins.back().hi > 1000);
  // 2^(k/4) edges: 16 = 2^4 is one, so 32 and 64 are too; 48 lies in
  // [2^(22/4), 2^(23/4)) = [45.25, 53.82).
  for (auto& b : bins)
    if (b.lo <= 48 && 48 < b.hi)
      CHECK(b.lo == Approx(std::exp2(22.0 / 4)));
}

TEST_CASE("an ESD on a class edge goes to the class above", "[report]") {
  auto bins = size_spectrum({32.0, 64.0}, std::nullopt);
  REQUIRE(bins.size() == 5); // [32, 38) ... [64, 76)
  CHECK(bins.front().lo == Approx(32));
  CHECK(bins.front().count == 1);
  CHECK(bins.back().lo == Approx(64));
  CHECK(bins.back().count == 1);
}

TEST_CASE("NBSS is biovolume over class width over volume", "[report]") {
  auto per_acq = size_spectrum({40.0, 41.0}, std::nullopt);
  auto per_l = size_spectrum({40.0, 41.0}, 0.002); // 2 mL
  REQUIRE(per_acq.size() == 1);
  auto& b = per_acq[0];
  double v = pi / 6 * (40.0 * 40 * 40 + 41.0 * 41 * 41);
  CHECK(b.biovolume == Approx(v));
  CHECK(b.bin_width == Approx(pi / 6 * (std::pow(b.hi, 3) - std::pow(b.lo, 3))));
  CHECK(b.nbss == Approx(v / b.bin_width));
  CHECK(per_l[0].nbss == Approx(b.nbss / 0.002));
}

TEST_CASE("values that are not sizes are left out", "[report]") {
  auto bins = size_spectrum({0.0, -3.0, NAN, INFINITY, 25.0}, std::nullopt);
  REQUIRE(bins.size() == 1);
  CHECK(bins[0].count == 1);
  CHECK(size_spectrum({}, std::nullopt).empty());
}

TEST_CASE("HTML text helpers", "[report]") {
  CHECK(escape_html("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;");
  CHECK(url_path("a b#1/x%.jpg") == "a%20b%231/x%25.jpg");
  CHECK(base64({}) == "");
  CHECK(base64({'f'}) == "Zg==");
  CHECK(base64({'f', 'o'}) == "Zm8=");
  CHECK(base64({'f', 'o', 'o', 'b', 'a', 'r'}) == "Zm9vYmFy");
  CHECK(script_safe(R"({"a":"</script><!--"})") == R"({"a":"\u003c/script>\u003c!--"})");
  CHECK(short_number(1234.5) == "1234");
  CHECK(short_number(0.0123) == "0.0123");
  CHECK(short_number(12.345) == "12.3");
}

TEST_CASE("plots mark failed frames and recalculated flats", "[report]") {
  std::vector<report_frame> frames(4);
  frames[0].state = report_frame::outcome::done;
  frames[0].objects = 3;
  frames[1].state = report_frame::outcome::failed;
  frames[1].reason = "truncated <JPEG>";
  frames[2].state = report_frame::outcome::done;
  frames[2].objects = 5;
  frames[2].new_flat = true;
  auto svg = frames_svg(frames);
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (auto at = svg.find(what); at != std::string::npos; at = svg.find(what, at + 1))
      ++n;
    return n;
  };
  CHECK(count("class=\"bar\"") == 2);
  CHECK(count("class=\"failed\"") == 1);
  CHECK(count("class=\"reflat\"") == 1);
  CHECK(svg.find("truncated &lt;JPEG&gt;") != std::string::npos);
  auto bins = size_spectrum({20, 30, 30, 90}, std::nullopt);
  auto nbss = nbss_svg(bins, "px", "NBSS");
  CHECK(nbss.find("<polyline") != std::string::npos);
  std::size_t dots = 0;
  for (auto at = nbss.find("class=\"dot\""); at != std::string::npos;
       at = nbss.find("class=\"dot\"", at + 1))
    ++dots;
  CHECK(dots == 3); // empty classes have no point on a log axis
}

TEST_CASE("run records read back, and a damaged one is an error naming it", "[report]") {
  seg::test::temp_dir dir;
  CHECK(!read_run_record(dir.path));
  run_record r;
  r.segflow_version = "9.9";
  r.state = "failed";
  r.finished = "2025-01-01T00:00:00";
  r.seconds = 1.5;
  r.profile = "planktoscope";
  r.settings_digest = settings_digest("a = 1\n");
  r.flat_recalculate = true;
  r.frames_total = 4;
  r.frames_done = 3;
  r.frames_failed = 1;
  r.objects = 7;
  r.failures = {"x.jpg: bad"};
  r.stages_ms = {{"decode", 2.5}, {"mask", 1}};
  std::filesystem::create_directories(dir.path / ".segflow"); // made by the caller, checked
  write_run_record(dir.path, r);
  auto back = read_run_record(dir.path);
  REQUIRE(back);
  CHECK(back->state == "failed");
  CHECK(back->um_per_px == 0);
  CHECK(back->flat_recalculate);
  CHECK(back->objects == 7);
  CHECK(back->failures == r.failures);
  CHECK(back->stages_ms == r.stages_ms);
  CHECK(r.settings_digest.size() == 16);
  CHECK(settings_digest("a = 1\n") != settings_digest("a = 2\n"));
  std::ofstream(run_record_file(dir.path)) << "{\"format\":\"other\"}";
  CHECK_THROWS_AS(read_run_record(dir.path), seg::io::io_error);
}
