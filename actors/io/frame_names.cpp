#include "actors/io/frame_names.hpp"

#include <nlohmann/json.hpp>

#include "actors/io/ecotaxa/ecotaxa_tsv.hpp"
#include "actors/io/ecotaxa/ecotaxa_validate.hpp"
#include "actors/io/output_layout.hpp"
#include "messages/job.hpp"

namespace seg::io {

namespace {

constexpr std::size_t max_file_name_bytes = 255; // NAME_MAX of Linux file systems

} // namespace

std::optional<std::string> frame_name_problem(const job_plan& plan, std::string_view frame,
                                              std::uint32_t last_index) {
  std::string text;
  auto add = [&](const std::string& why) { text += (text.empty() ? "" : "; ") + why; };
  auto crop = crop_name(plan, frame, last_index);
  auto record = frame_stem(frame) + ".jsonl";
  for (auto* name : {&crop, &record})
    if (name->size() > max_file_name_bytes)
      add("file name " + *name + " is " + std::to_string(name->size())
          + " bytes, file systems allow " + std::to_string(max_file_name_bytes));
  if (plan.ecotaxa) {
    // Only the object's own columns: the metadata's were checked when the
    // job was opened (job_plan.cpp), with a frame name of ordinary length.
    tsv_object obj;
    obj.name = object_name(plan, frame, last_index);
    process_fields process;
    process.id = "p";
    auto tsv = make_ecotaxa_tsv(nlohmann::ordered_json::object(), process, {obj});
    auto problems = validate_ecotaxa_tsv(
      ecotaxa_tsv_name("a"), tsv,
      [](const std::string&) { return std::optional<std::string>("\xFF\xD8\xFF"); });
    for (auto& p : problems)
      add("the EcoTaxa archive would not import: " + to_string(p));
  }
  if (text.empty())
    return std::nullopt;
  return "frame " + std::string(frame) + ": its object names cannot be used (" + text
         + "; rename the frame)";
}

} // namespace seg::io
