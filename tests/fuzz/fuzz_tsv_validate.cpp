// libFuzzer target: validate-ecotaxa's TSV checks on arbitrary text. Every
// img_file_name names an image whose first bytes are a JPEG's, except names
// starting with "missing", so both the image rules and the cell rules run.
#include <optional>
#include <string>
#include <string_view>

#include "actors/io/ecotaxa/ecotaxa_validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  seg::io::image_reader images = [](const std::string& name) -> std::optional<std::string> {
    if (name.rfind("missing", 0) == 0)
      return std::nullopt;
    return std::string("\xff\xd8\xff\xe0\x00\x10JFIF", 10);
  };
  for (auto& problem : seg::io::validate_ecotaxa_tsv("ecotaxa_fuzz.tsv", text, images))
    (void)seg::io::to_string(problem);
  return 0;
}
