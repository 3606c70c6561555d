// libFuzzer target: a message trace (trace dump, trace diff, replay read it
// with trace_reader): header, then every record and its payload rendered.
// A bad trace must be a trace_error, never a crash or an unbounded allocation.
#include "actors/io/trace_file.hpp"
#include "tests/fuzz/fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    seg::io::trace_reader reader(seg::fuzz::as_file(data, size));
    while (auto record = reader.next())
      (void)seg::io::payload_text(record->payload);
  } catch (const seg::io::trace_error&) {
    // a refused trace
  }
  return 0;
}
