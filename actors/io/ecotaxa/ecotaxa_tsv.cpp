#include "actors/io/ecotaxa/ecotaxa_tsv.hpp"

#include <cmath>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "actors/io/feature_table.hpp"
#include "actors/io/python_format.hpp"

using nlohmann::ordered_json;

namespace seg::io {

namespace {

std::string spaces_to_underscores(std::string s) {
  for (char& c : s)
    if (c == ' ')
      c = '_';
  return s;
}

ordered_json operation(const char* type, ordered_json parameters) {
  ordered_json op = ordered_json::object();
  op["type"] = type;
  op["parameters"] = std::move(parameters);
  return op;
}

ordered_json kernel_parameters(int size, const char* shape) {
  ordered_json p = ordered_json::object();
  p["kernel_size"] = size;
  p["kernel_shape"] = shape;
  return p;
}

// csv.QUOTE_MINIMAL with delimiter TAB, quotechar '"', lineterminator "\n"
// as CPython 3.11 (the reference's Python) writes it.
void append_cell(std::string& out, std::string_view cell) {
  if (cell.find_first_of("\t\"\n") == std::string_view::npos) {
    out += cell;
    return;
  }
  out += '"';
  for (char c : cell) {
    if (c == '"')
      out += '"';
    out += c;
  }
  out += '"';
}

// A JSON value as pandas writes it in a cell.
std::string metadata_cell(const ordered_json& v) {
  if (v.is_null())
    return {};
  return python_str_json(v);
}

std::string float_cell(double v) {
  // pandas writes NaN as its na_rep, "" by default.
  return std::isnan(v) ? std::string() : python_repr_float(v);
}

enum class source : std::uint8_t { metadata, label, feature, object_id, img_file_name, img_rank };

struct column {
  std::string name;
  source src = source::metadata;
  std::size_t feature = 0;  // index in detail::feature_columns for source::feature
  std::string fixed_cell;   // the quoted cell for source::metadata
  bool numeric = false;
};

void append_feature(std::string& out, const detail::feature_column& fc,
                    const kernels::object_features& f, bool scaled) {
  if (fc.int_member != nullptr) {
    out += python_repr_int(f.*(fc.int_member));
    return;
  }
  const double v = f.*(fc.real_member);
  if (fc.kind == detail::feature_kind::area_or_length && !scaled && std::isfinite(v))
    out += python_repr_int(static_cast<std::int64_t>(std::llround(v)));
  else
    out += float_cell(v);
}

} // namespace

std::string make_process_id(const ordered_json& metadata, const std::string& setting) {
  return spaces_to_underscores(metadata.at("sample_project").get<std::string>()) + "_"
         + spaces_to_underscores(metadata.at("sample_id").get<std::string>()) + "_" + setting;
}

ordered_json with_process_fields(const ordered_json& metadata, const process_fields& process) {
  ordered_json m = metadata;
  m["process_datetime"] = process.datetime;
  m["process_uuid"] = process.uuid;
  m["process_id"] = process.id;
  ordered_json flat = ordered_json::object();
  flat["type"] = "flat";
  ordered_json triangle = ordered_json::object();
  triangle["algorithm"] = "THRESH_TRIANGLE";
  m["process_1st_operation"] = operation("remove_background", std::move(flat));
  m["process_2nd_operation"] = operation("simple_threshold", std::move(triangle));
  m["process_3rd_operation"] = operation(
    process.remove_previous_mask ? "remove_previous_mask" : "no_op", ordered_json::object());
  m["process_4th_operation"] = operation("erode", kernel_parameters(2, "rectangle"));
  m["process_5th_operation"] = operation("dilate", kernel_parameters(8, "ellipse"));
  m["process_6th_operation"] = operation("close", kernel_parameters(8, "ellipse"));
  m["process_7th_operation"] = operation("erode", kernel_parameters(8, "ellipse"));
  return m;
}

std::string make_ecotaxa_tsv(const ordered_json& metadata, const process_fields& process,
                             const std::vector<tsv_object>& objects,
                             const tsv_options& options) {
  const ordered_json meta = with_process_fields(metadata, process);
  std::vector<column> columns;
  std::unordered_map<std::string, std::size_t> index;
  for (const auto& [key, value] : meta.items()) {
    column c;
    c.name = key;
    c.numeric = value.is_number();  // bools are not numbers in nlohmann
    append_cell(c.fixed_cell, metadata_cell(value));
    index.emplace(key, columns.size());
    columns.push_back(std::move(c));
  }
  // Later keys of the row dict: an existing key keeps its place (dict update).
  auto add = [&](const std::string& name, source src, std::size_t feature, bool numeric) {
    auto it = index.find(name);
    column* c = nullptr;
    if (it != index.end()) {
      c = &columns[it->second];
    } else {
      index.emplace(name, columns.size());
      columns.emplace_back();
      c = &columns.back();
      c->name = name;
    }
    c->src = src;
    c->feature = feature;
    c->numeric = numeric;
    c->fixed_cell.clear();
  };
  add("object_label", source::label, 0, true);
  for (std::size_t k = 0; k < detail::feature_count; ++k)
    add(detail::feature_columns[k].tsv_name, source::feature, k, true);
  add("object_id", source::object_id, 0, false);
  add("img_file_name", source::img_file_name, 0, false);
  add("img_rank", source::img_rank, 0, true);

  std::string out;
  out.reserve(2048 + objects.size() * 1600);
  for (std::size_t j = 0; j < columns.size(); ++j) {
    if (j > 0)
      out += '\t';
    append_cell(out, columns[j].name);
  }
  out += '\n';
  for (std::size_t j = 0; j < columns.size(); ++j) {
    if (j > 0)
      out += '\t';
    out += columns[j].numeric ? "[f]" : "[t]";
  }
  out += '\n';
  for (const auto& obj : objects) {
    for (std::size_t j = 0; j < columns.size(); ++j) {
      if (j > 0)
        out += '\t';
      const column& c = columns[j];
      switch (c.src) {
        case source::metadata:
          out += c.fixed_cell;
          break;
        case source::label:
          out += python_repr_int(obj.label);
          break;
        case source::feature:
          append_feature(out, detail::feature_columns[c.feature], obj.features,
                         options.scaled_units);
          break;
        case source::object_id:
          append_cell(out, obj.name);
          break;
        case source::img_file_name:
          append_cell(out, obj.name + ".jpg");
          break;
        case source::img_rank:
          out += '1';
          break;
      }
    }
    out += '\n';
  }
  return out;
}

} // namespace seg::io
