#include "actors/io/ecotaxa/ecotaxa_export.hpp"

#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

#include "actors/io/atomic_file.hpp"
#include "actors/io/iso_time.hpp"
#include "actors/io/ecotaxa/ecotaxa_validate.hpp"
#include "actors/io/output_layout.hpp"
#include "messages/job.hpp"

namespace fs = std::filesystem;

namespace seg::io {

namespace {

std::string uuid4() {
  std::random_device rd;
  std::uniform_int_distribution<int> byte(0, 255);
  unsigned char b[16];
  for (auto& x : b)
    x = static_cast<unsigned char>(byte(rd));
  b[6] = (b[6] & 0x0F) | 0x40;
  b[8] = (b[8] & 0x3F) | 0x80;
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out += '-';
    out += hex[b[i] >> 4];
    out += hex[b[i] & 15];
  }
  return out;
}

// The archive is checked against EcoTaxa's import rules before it is
// written: one that would not import fails the job instead.
void check_ecotaxa(const job_plan& plan, const std::string& tsv_name, const std::string& tsv,
                   const std::vector<zip_input>& crops) {
  std::map<std::string, const zip_input*> by_name;
  for (auto& c : crops)
    by_name.emplace(c.name, &c);
  auto problems = validate_ecotaxa_tsv(
    tsv_name, tsv, [&](const std::string& name) -> std::optional<std::string> {
      auto it = by_name.find(name);
      if (it == by_name.end())
        return std::nullopt;
      std::ifstream in(it->second->file, std::ios::binary);
      std::string head(16, '\0');
      in.read(head.data(), std::streamsize(head.size()));
      head.resize(std::size_t(in.gcount()));
      return head;
    });
  if (problems.empty())
    return;
  std::string text;
  for (std::size_t i = 0; i < problems.size() && i < 10; ++i)
    text += (i == 0 ? "" : "; ") + to_string(problems[i]);
  if (problems.size() > 10)
    text += "; and " + std::to_string(problems.size() - 10) + " more";
  throw std::runtime_error("the EcoTaxa archive of " + plan.acquisition
                           + " would not import, none written: " + text);
}

} // namespace

void add_object(ecotaxa_objects& objects, const job_plan& plan, std::string name,
                kernels::object_features features, std::string crop_name,
                fs::path crop_file) {
  tsv_object row;
  row.name = std::move(name);
  row.label = std::int64_t(objects.rows.size());
  row.features = features;
  if (plan.params.pixel_size_um > 0)
    kernels::scale_to_micrometres(row.features, plan.params.pixel_size_um);
  zip_input crop;
  crop.name = std::move(crop_name);
  crop.file = std::move(crop_file);
  objects.crops.push_back(std::move(crop));
  objects.rows.push_back(std::move(row));
}

export_identity new_export_identity() {
  return {utc_isoformat_now(), uuid4()};
}

std::string write_ecotaxa_export(const job_plan& plan, const output_layout& layout,
                                 const ecotaxa_objects& objects,
                                 const export_identity& identity) {
  if (!plan.ecotaxa)
    return "";
  auto metadata = nlohmann::ordered_json::parse(plan.metadata_json);
  auto fixed = identity.uuid.empty() ? new_export_identity() : identity;
  process_fields process;
  process.datetime = fixed.datetime;
  process.uuid = fixed.uuid;
  process.id = make_process_id(metadata, plan.process_id.empty() ? process.uuid
                                                                 : plan.process_id);
  process.remove_previous_mask = plan.params.remove_previous_mask;
  tsv_options opts;
  opts.scaled_units = plan.params.pixel_size_um > 0;
  auto tsv = make_ecotaxa_tsv(metadata, process, objects.rows, opts);
  auto tsv_name = layout.tsv_name();
  check_ecotaxa(plan, tsv_name, tsv, objects.crops);
  auto zip = layout.zip_file();
  make_owned_dirs(layout.data_root(), zip.parent_path());
  try {
    write_ecotaxa_zip(zip, objects.crops, tsv_name, tsv);
    write_file_atomic(layout.tsv_file(), tsv);
  } catch (...) {
    // A failed job leaves no archive or TSV that could pass for its output.
    std::error_code ec;
    fs::remove(zip, ec);
    fs::remove(layout.tsv_file(), ec);
    throw;
  }
  return zip.string();
}

} // namespace seg::io
