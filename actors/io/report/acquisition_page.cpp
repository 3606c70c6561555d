#include "actors/io/report/acquisition_page.hpp"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "actors/io/acquisition.hpp"
#include "actors/io/atomic_file.hpp"
#include "actors/io/iso_time.hpp"
#include "actors/io/report/html_text.hpp"
#include "actors/io/report/page_frame.hpp"
#include "actors/io/report/size_spectrum.hpp"
#include "actors/io/report/svg_plot.hpp"
#include "actors/io/report/thumbnail.hpp"

namespace seg::io::report {

namespace {

using ojson = nlohmann::ordered_json;

const char* outcome_name(report_frame::outcome o) {
  switch (o) {
    case report_frame::outcome::done: return "done";
    case report_frame::outcome::failed: return "failed";
    case report_frame::outcome::not_done: return "not done";
  }
  return "unknown";
}

std::string badge(const std::string& state) {
  auto cls = state;
  std::replace(cls.begin(), cls.end(), ' ', '-');
  return "<span class=\"badge s-" + escape_html(cls) + "\">" + escape_html(state) + "</span>";
}

std::string fact(const std::string& name, const std::string& value_html) {
  return "<div><dt>" + escape_html(name) + "</dt><dd>" + value_html + "</dd></div>\n";
}

std::optional<double> litres_of(const acquisition_report& r) {
  if (r.imaged_ml)
    return *r.imaged_ml / 1000.0;
  return std::nullopt;
}

std::string nbss_label(const acquisition_report& r) {
  auto u = r.unit();
  return "NBSS (" + u + "\xC2\xB3 " + u + "\xE2\x81\xBB\xC2\xB3"
         + (r.imaged_ml ? " L\xE2\x81\xBB\xC2\xB9" : ", per acquisition") + ")";
}

std::vector<const report_object*> largest_first(const acquisition_report& r) {
  std::vector<const report_object*> v;
  for (auto& o : r.objects)
    v.push_back(&o);
  std::stable_sort(v.begin(), v.end(),
                   [](auto* a, auto* b) { return a->esd > b->esd; });
  return v;
}

// "../../" back from objects/<rel>/ to objects/, where the index is.
std::string index_href(const acquisition_report& r) {
  std::string up;
  for (auto it = r.rel.begin(); it != r.rel.end(); ++it)
    up += "../";
  return up + "report.html";
}

std::string header_html(const acquisition_report& r, bool full) {
  std::string s = "<header class=\"top\"><h1>" + escape_html(r.acq_id)
                  + (full ? "" : " \xC2\xB7 all objects") + "</h1><p>sample "
                  + escape_html(r.sample_id) + " \xC2\xB7 project "
                  + escape_html(r.sample_project) + " \xC2\xB7 " + escape_html(r.rel.string())
                  + "</p><nav>";
  if (full)
    s += "<a href=\"#objects\">Objects</a><a href=\"#spectrum\">Size spectrum</a>"
         "<a href=\"#frames\">Frames</a><a href=\"#flat\">Flat field</a>"
         "<a href=\"#failed\">Failed frames</a><a href=\"#time\">Time</a>";
  else
    s += "<a href=\"report.html\">Back to the report</a>";
  return s + "<a href=\"" + url_path(index_href(r)) + "\">All acquisitions</a></nav></header>\n<main>\n";
}

std::string facts_html(const acquisition_report& r) {
  std::string s = "<section id=\"summary\"><dl class=\"facts\">\n";
  s += fact("State", badge(r.state));
  s += fact("Frames done", std::to_string(r.frames_done) + " / " + std::to_string(r.frames.size()));
  s += fact("Frames failed", std::to_string(r.frames_failed));
  s += fact("Objects", std::to_string(r.objects.size()));
  s += fact("Sample", escape_html(r.sample_id));
  s += fact("Acquisition", escape_html(r.acq_id));
  s += fact("Instrument", escape_html(r.instrument.empty() ? "\xE2\x80\x93" : r.instrument));
  auto date = r.date;
  std::replace(date.begin(), date.end(), 'T', ' ');
  s += fact("Date", escape_html(date));
  s += fact("Pixel size", r.process_pixel.empty()
                            ? "not in metadata"
                            : escape_html(r.process_pixel) + " \xC2\xB5m/px");
  s += fact("Profile", escape_html(r.profile) + " \xC2\xB7 sizes in "
                         + (r.um_per_px > 0 ? "\xC2\xB5m" : "pixels"));
  if (r.run) {
    s += fact("Run time", fixed(r.run->seconds, 1) + " s");
    auto finished = r.run->finished.substr(0, 19);
    std::replace(finished.begin(), finished.end(), 'T', ' ');
    s += fact("Finished (UTC)", escape_html(finished));
    s += fact("segflow", escape_html(r.run->segflow_version));
    s += fact("Settings digest", "<code>" + escape_html(r.run->settings_digest) + "</code>");
  } else {
    s += fact("Run", "no run record");
  }
  s += "</dl>\n";
  if (r.run && !r.run->error.empty())
    s += "<p class=\"note\">Job error: " + escape_html(r.run->error) + "</p>\n";
  if (r.um_per_px <= 0 && r.profile != "planktoscope")
    s += "<p class=\"note\">Sizes are in pixels: metadata.json has no usable process_pixel "
         "or the run used pixel units.</p>\n";
  for (auto& p : r.problems)
    s += "<p class=\"note\">Problem: " + escape_html(p) + "</p>\n";
  return s + "</section>\n";
}

std::string figure(const report_object& o, const std::string& unit, const std::string& src) {
  auto esd = fixed(o.esd, 1) + " " + unit;
  return "<figure><img src=\"" + src + "\" alt=\"" + escape_html(o.id) + "\" title=\""
         + escape_html(o.id) + " \xE2\x80\x94 ESD " + esd + ", frame " + std::to_string(o.frame)
         + "\"><figcaption>" + esd + "</figcaption></figure>\n";
}

std::string mosaic_html(const acquisition_report& r, const page_options& opts,
                        ojson& shown, std::vector<std::string>& problems) {
  auto order = largest_first(r);
  std::string s = "<section id=\"objects\"><h2>Objects, largest first</h2>\n";
  if (order.empty())
    return s + "<p class=\"note\">No objects.</p></section>\n";
  s += "<div class=\"mosaic\">\n";
  for (auto* o : order) {
    if (shown.size() >= opts.mosaic_limit)
      break;
    std::vector<std::uint8_t> thumb;
    try {
      auto bytes = read_file(r.objects_dir / o->crop);
      thumb = jpeg_thumbnail(std::vector<std::uint8_t>(bytes.begin(), bytes.end()),
                             opts.thumbnail_px);
    } catch (const std::exception& e) {
      problems.push_back(e.what());
      continue;
    }
    if (thumb.empty()) {
      problems.push_back((r.objects_dir / o->crop).string() + ": not a readable JPEG");
      continue;
    }
    s += figure(*o, r.unit(), jpeg_data_uri(thumb));
    shown.push_back(o->id);
  }
  s += "</div>\n<p class=\"note\">" + std::to_string(shown.size()) + " of "
       + std::to_string(order.size()) + " objects shown. <a href=\"" + objects_page_name
       + "\">See all " + std::to_string(order.size())
       + " objects</a> (their crops beside this page).</p>\n";
  return s + "</section>\n";
}

std::string spectrum_html(const acquisition_report& r, const std::vector<size_bin>& bins) {
  auto u = r.unit();
  std::string s = "<section id=\"spectrum\"><h2>Size spectrum</h2>\n<div class=\"cards\">"
                  "<div><h3>Objects per size class</h3>\n"
                  + size_counts_svg(bins, u) + "</div><div><h3>Normalised biomass size "
                  "spectrum</h3>\n" + nbss_svg(bins, u, nbss_label(r)) + "</div></div>\n";
  s += "<p class=\"note\">ESD: equivalent spherical diameter (object_equivalent_diameter"
       + std::string(r.um_per_px > 0 ? ", \xC2\xB5m through process_pixel" : ", pixels")
       + "). Classes: 4 per octave of ESD. Biovolume of an object: a sphere of its ESD, "
         "\xCF\x80/6\xC2\xB7" "ESD\xC2\xB3. NBSS of a class: its summed biovolume \xC3\xB7 the "
         "class width in biovolume";
  if (r.imaged_ml)
    s += " \xC3\xB7 the imaged volume (acq_imaged_volume " + short_number(*r.imaged_ml)
         + " mL).</p>\n";
  else
    s += ", per acquisition: metadata.json gives no acq_imaged_volume to divide by.</p>\n";
  s += "<details><summary>Classes as a table</summary><div class=\"scroll\"><table><thead>"
       "<tr><th class=\"num\">ESD from (" + u + ")</th><th class=\"num\">to</th>"
       "<th class=\"num\">objects</th><th class=\"num\">biovolume (" + u + "\xC2\xB3)</th>"
       "<th class=\"num\">NBSS</th></tr></thead><tbody>\n";
  for (auto& b : bins)
    s += "<tr><td class=\"num\">" + short_number(b.lo) + "</td><td class=\"num\">"
         + short_number(b.hi) + "</td><td class=\"num\">" + std::to_string(b.count)
         + "</td><td class=\"num\">" + short_number(b.biovolume) + "</td><td class=\"num\">"
         + short_number(b.nbss) + "</td></tr>\n";
  return s + "</tbody></table></div></details></section>\n";
}

std::string frames_html(const acquisition_report& r) {
  long not_done = 0, new_flats = 0;
  for (auto& f : r.frames) {
    not_done += f.state == report_frame::outcome::not_done ? 1 : 0;
    new_flats += f.new_flat ? 1 : 0;
  }
  std::string s = "<section id=\"frames\"><h2>Objects along the acquisition</h2>\n"
                  + frames_svg(r.frames)
                  + "<div class=\"legend\"><span><span class=\"key\" "
                    "style=\"background:var(--accent)\"></span>objects kept in a frame</span>"
                    "<span style=\"color:var(--bad)\">\xE2\x9C\x95 failed frame</span>"
                    "<span style=\"color:#6a1b9a\">\xE2\x95\x8E flat field recalculated ("
                  + std::to_string(new_flats) + ")</span></div>\n";
  if (not_done > 0)
    s += "<p class=\"note\">" + std::to_string(not_done)
         + " frames are not segmented (yet): no bar, no cross.</p>\n";
  return s + "</section>\n";
}

std::string flat_html(const acquisition_report& r) {
  std::string s = "<section id=\"flat\"><h2>Flat field</h2>\n";
  if (r.flat_jpeg.empty())
    return s + "<p class=\"note\">No flat-field thumbnail was saved (outputs of an older "
               "segflow, or the job ended before its flat field was ready).</p></section>\n";
  return s + "<img class=\"flat\" src=\"" + jpeg_data_uri(r.flat_jpeg)
         + "\" alt=\"flat field\"><p class=\"note\">The median of the acquisition's first "
           "frames that every frame is divided by (the first flat of the latest run, "
           "shrunk). Specks, rings and bubbles here are on the flow cell.</p></section>\n";
}

std::string failed_html(const acquisition_report& r) {
  std::string s = "<section id=\"failed\"><h2>Failed frames</h2>\n";
  if (r.frames_failed == 0)
    return s + "<p class=\"note\">None.</p></section>\n";
  s += "<div class=\"scroll\"><table><thead><tr><th class=\"num\">#</th><th>frame</th>"
       "<th>reason</th></tr></thead><tbody>\n";
  for (std::size_t i = 0; i < r.frames.size(); ++i)
    if (r.frames[i].state == report_frame::outcome::failed)
      s += "<tr><td class=\"num\">" + std::to_string(i) + "</td><td class=\"wrap\">"
           + escape_html(r.frames[i].name) + "</td><td class=\"wrap\">"
           + escape_html(r.frames[i].reason) + "</td></tr>\n";
  return s + "</tbody></table></div></section>\n";
}

std::string time_html(const acquisition_report& r) {
  std::string s = "<section id=\"time\"><h2>Where the time went</h2>\n";
  if (!r.run)
    return s + "<p class=\"note\">No run record: made by an older segflow.</p></section>\n";
  static const std::map<std::string, std::string> names = {
    {"read", "read frame files"}, {"decode", "decode JPEG"},
    {"correct", "flat-field correction"}, {"mask", "threshold and morphology"},
    {"label_features", "labels and features"}, {"crops", "crops"},
    {"commit", "commit (crops and records)"}, {"export", "export (TSV, zip)"},
    {"flat", "flat field"}, {"worker_wait", "workers waiting for frames"},
    {"exporter_wait", "exporter waiting for results"}};
  double most = 0;
  for (auto& [k, ms] : r.run->stages_ms)
    most = std::max(most, ms);
  s += "<div class=\"scroll\"><table><thead><tr><th>stage</th><th class=\"num\">ms</th>"
       "<th style=\"width:40%\"></th></tr></thead><tbody>\n";
  for (auto& [k, ms] : r.run->stages_ms) {
    if (ms <= 0)
      continue; // a stage this run did not time (or did not have)
    auto it = names.find(k);
    double pct = most > 0 ? 100 * ms / most : 0;
    s += "<tr><td>" + escape_html(it == names.end() ? k : it->second) + "</td><td class=\"num\">"
         + fixed(ms, 1) + "</td><td><div class=\"meter\"><span style=\"width:" + fixed(pct, 1)
         + "%\"></span></div></td></tr>\n";
  }
  return s + "</tbody></table></div><p class=\"note\">Summed over frames: with several "
             "workers the stages add up to more than the run's " + fixed(r.run->seconds, 1)
             + " s.</p></section>\n";
}

ojson numbers(const acquisition_report& r, const std::vector<size_bin>& bins,
              const ojson& mosaic, const page_options& opts) {
  ojson j;
  j["format"] = "segflow-report";
  j["version"] = 1;
  j["acquisition"] = {{"rel", r.rel.string()}, {"sample_project", r.sample_project},
                      {"sample_id", r.sample_id}, {"acq_id", r.acq_id},
                      {"instrument", r.instrument}, {"date", r.date},
                      {"process_pixel", r.process_pixel}};
  j["profile"] = r.profile;
  j["unit"] = r.um_per_px > 0 ? "um" : "px";
  j["um_per_px"] = r.um_per_px;
  j["state"] = r.state;
  j["counts"] = {{"frames_total", r.frames.size()}, {"frames_done", r.frames_done},
                 {"frames_failed", r.frames_failed}, {"objects", r.objects.size()}};
  if (r.run)
    j["run"] = {{"segflow_version", r.run->segflow_version}, {"state", r.run->state},
                {"finished", r.run->finished}, {"seconds", r.run->seconds},
                {"settings_digest", r.run->settings_digest}};
  else
    j["run"] = nullptr;
  j["mosaic"] = {{"limit", opts.mosaic_limit}, {"ids", mosaic}};
  auto& sp = j["size_spectrum"];
  sp["bins_per_octave"] = bins_per_octave;
  sp["imaged_ml"] = r.imaged_ml ? ojson(*r.imaged_ml) : ojson(nullptr);
  sp["nbss_per"] = r.imaged_ml ? "litre" : "acquisition";
  auto& jb = sp["bins"] = ojson::array();
  for (auto& b : bins)
    jb.push_back({{"lo", b.lo}, {"hi", b.hi}, {"count", b.count}, {"biovolume", b.biovolume},
                  {"bin_width", b.bin_width}, {"nbss", b.nbss}});
  auto& jf = j["frames"] = ojson::array();
  for (auto& f : r.frames)
    jf.push_back({{"name", f.name}, {"state", outcome_name(f.state)}, {"objects", f.objects},
                  {"reason", f.reason}, {"new_flat", f.new_flat}});
  j["flat_thumbnail"] = !r.flat_jpeg.empty();
  j["objects_page"] = objects_page_name;
  return j;
}

std::string footer_html(const acquisition_report& r) {
  return "Made by segflow " SEGFLOW_VERSION " on " + utc_isoformat_now().substr(0, 19)
         + " UTC \xC2\xB7 " + escape_html(r.rel.string())
         + (r.tsv_name.empty() ? "" : " \xC2\xB7 <a href=\"" + url_path(r.tsv_name) + "\">"
                                          + escape_html(r.tsv_name) + "</a>");
}

} // namespace

std::string acquisition_page(const acquisition_report& r, const page_options& opts) {
  std::vector<double> esd;
  for (auto& o : r.objects)
    esd.push_back(o.esd);
  auto bins = size_spectrum(esd, litres_of(r));
  ojson mosaic = ojson::array();
  std::vector<std::string> problems;
  auto mosaic_part = mosaic_html(r, opts, mosaic, problems);
  auto shown = r;
  shown.problems.insert(shown.problems.end(), problems.begin(), problems.end());
  auto page = page_head(r.acq_id + " \xE2\x80\x94 segflow report", "acquisition")
              + header_html(r, true) + facts_html(shown) + mosaic_part
              + spectrum_html(r, bins) + frames_html(r) + flat_html(r) + failed_html(r)
              + time_html(r);
  return page + page_tail(footer_html(r), numbers(shown, bins, mosaic, opts).dump());
}

std::string objects_page(const acquisition_report& r) {
  auto order = largest_first(r);
  std::string s = page_head(r.acq_id + " \xE2\x80\x94 all objects", "objects")
                  + header_html(r, false) + "<section><h2>"
                  + std::to_string(order.size()) + " objects, largest first</h2>\n"
                  "<div class=\"mosaic\">\n";
  ojson crops = ojson::array();
  for (auto* o : order) {
    s += figure(*o, r.unit(), url_path(o->crop));
    crops.push_back(o->crop);
  }
  s += "</div></section>\n";
  ojson j;
  j["format"] = "segflow-report-objects";
  j["version"] = 1;
  j["acq_id"] = r.acq_id;
  j["objects"] = order.size();
  j["crops"] = std::move(crops);
  return s + page_tail(footer_html(r), j.dump());
}

} // namespace seg::io::report
