#include "actors/io/report/report.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "actors/io/acquisition.hpp"
#include "actors/io/atomic_file.hpp"
#include "actors/io/io_error.hpp"
#include "actors/io/iso_time.hpp"
#include "actors/io/output_layout.hpp"
#include "actors/io/report/html_text.hpp"
#include "actors/io/report/page_frame.hpp"

namespace fs = std::filesystem;

namespace seg::io::report {

namespace {

using ojson = nlohmann::ordered_json;

// One row of the index: cheap to make (the run record, or file counts),
// since a data root may hold hundreds of acquisitions.
struct index_row {
  std::string rel, sample_id, acq_id, state, report;
  long frames_total = 0, frames_done = 0, frames_failed = 0, objects = -1;
  std::string finished;
};

long count_files(const fs::path& dir, const std::string& ext) {
  long n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    if (it->path().extension() == ext && it->path().filename().string()[0] != '.')
      ++n;
  return n;
}

index_row row_of(const fs::path& dir) {
  index_row row;
  auto acq = open_acquisition(dir);
  row.rel = acq.rel.string();
  row.frames_total = long(acq.frames.size());
  try {
    auto meta = read_metadata(acq.dir / "metadata.json");
    row.sample_id = meta.value("sample_id", "");
    row.acq_id = meta.value("acq_id", "");
  } catch (const std::exception&) {
    row.state = "bad metadata";
  }
  output_layout layout(acq);
  auto objects = layout.objects_dir();
  std::optional<run_record> run;
  try {
    run = read_run_record(objects);
  } catch (const std::exception&) {
    // nop: shown from the files alone
  }
  if (run) {
    row.frames_done = run->frames_done;
    row.frames_failed = run->frames_failed;
    row.objects = run->objects;
    row.finished = run->finished.substr(0, 19);
    std::replace(row.finished.begin(), row.finished.end(), 'T', ' ');
    if (row.state.empty())
      row.state = run_state_text(*run);
  } else {
    row.frames_done = count_files(layout.records_dir(), ".jsonl");
    row.frames_failed = count_files(layout.errors_dir(), ".json");
    std::error_code ec;
    if (row.state.empty())
      row.state = fs::exists(layout.done_file(), ec) ? "done"
                  : row.frames_done + row.frames_failed > 0 ? "partial"
                                                            : "not segmented";
  }
  std::error_code ec;
  if (fs::is_regular_file(report_file(objects), ec))
    row.report = (acq.rel / "report.html").generic_string();
  return row;
}

std::string index_page(const fs::path& data_root, const std::vector<index_row>& rows,
                       const std::vector<std::string>& problems) {
  auto s = page_head("segflow reports \xE2\x80\x94 " + data_root.filename().string(), "index")
           + "<header class=\"top\"><h1>Acquisitions</h1><p>"
           + escape_html(data_root.string()) + "</p></header>\n<main>\n<section><h2>"
           + std::to_string(rows.size()) + " acquisitions</h2>\n<div class=\"scroll\"><table>"
             "<thead><tr><th>acquisition</th><th>state</th><th class=\"num\">frames</th>"
             "<th class=\"num\">objects</th><th class=\"wide-only\">finished (UTC)"
             "</th></tr></thead><tbody>\n";
  for (auto& r : rows) {
    auto name = escape_html(r.acq_id.empty() ? r.rel : r.acq_id);
    auto cls = r.state;
    std::replace(cls.begin(), cls.end(), ' ', '-');
    s += "<tr><td class=\"wrap\">"
         + (r.report.empty() ? name
                             : "<a href=\"" + url_path(r.report) + "\">" + name + "</a>")
         + "<br><small>" + escape_html(r.rel) + "</small></td><td><span class=\"badge s-"
         + escape_html(cls) + "\">" + escape_html(r.state) + "</span></td><td class=\"num\">"
         + std::to_string(r.frames_done) + " / " + std::to_string(r.frames_total)
         + (r.frames_failed > 0 ? "<br><small>" + std::to_string(r.frames_failed) + " failed</small>"
                                : "")
         + "</td><td class=\"num\">"
         + (r.objects < 0 ? "\xE2\x80\x93" : std::to_string(r.objects))
         + "</td><td class=\"wide-only\">" + escape_html(r.finished) + "</td></tr>\n";
  }
  s += "</tbody></table></div>\n";
  for (auto& p : problems)
    s += "<p class=\"note\">Problem: " + escape_html(p) + "</p>\n";
  s += "</section>\n";
  ojson j;
  j["format"] = "segflow-report-index";
  j["version"] = 1;
  auto& list = j["acquisitions"] = ojson::array();
  for (auto& r : rows)
    list.push_back({{"rel", r.rel}, {"sample_id", r.sample_id}, {"acq_id", r.acq_id},
                    {"state", r.state}, {"frames_total", r.frames_total},
                    {"frames_done", r.frames_done}, {"frames_failed", r.frames_failed},
                    {"objects", r.objects < 0 ? ojson(nullptr) : ojson(r.objects)},
                    {"report", r.report.empty() ? ojson(nullptr) : ojson(r.report)}});
  return s + page_tail("Made by segflow " SEGFLOW_VERSION " on "
                         + utc_isoformat_now().substr(0, 19) + " UTC",
                       j.dump());
}

} // namespace

fs::path report_file(const fs::path& objects_dir) {
  return objects_dir / "report.html";
}

fs::path index_file(const fs::path& data_root) {
  return data_root / "objects" / "report.html";
}

fs::path write_acquisition_report(const fs::path& acq_dir, const run_assumptions& assumed,
                                  const page_options& opts) {
  auto r = load_acquisition_report(acq_dir, assumed);
  make_owned_dirs(r.data_root, r.objects_dir);
  auto file = report_file(r.objects_dir);
  write_file_atomic(r.objects_dir / objects_page_name, objects_page(r));
  write_file_atomic(file, acquisition_page(r, opts));
  return file;
}

fs::path write_report_index(const fs::path& data_root) {
  auto found = find_acquisition_dirs({data_root / "img"}, /*recursive=*/true);
  std::vector<index_row> rows;
  for (auto& dir : found.dirs) {
    try {
      rows.push_back(row_of(dir));
    } catch (const std::exception& e) {
      found.problems.push_back(e.what());
    }
  }
  auto file = index_file(data_root);
  make_owned_dirs(data_root, file.parent_path());
  write_file_atomic(file, index_page(data_root, rows, found.problems));
  return file;
}

} // namespace seg::io::report
