// libFuzzer target: metadata.json as an acquisition's reader checks it
// (read_metadata), then what the run derives from it (the exported subset,
// process_pixel). A bad file must be an io_error, never a crash.
#include <nlohmann/json.hpp>

#include "actors/io/acquisition.hpp"
#include "actors/io/io_error.hpp"
#include "tests/fuzz/fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto metadata = seg::io::read_metadata(seg::fuzz::as_file(data, size));
    (void)seg::io::filter_metadata(metadata);
    (void)seg::io::parse_process_pixel(metadata);
  } catch (const seg::io::io_error&) {
    // a refused file: the expected outcome for most inputs
  }
  return 0;
}
