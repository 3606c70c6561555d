#pragma once

// Decoding a trace record's payload, apart from trace_file.hpp so that only
// the readers that look inside payloads pull in msgpack.

#include <string>

#include <msgpack.hpp>

namespace seg::io {

/// A record's payload (a msgpack array) decoded under the trace format's
/// limits, so a hostile length cannot exhaust memory; throws msgpack's
/// exceptions (std::exception) on malformed or oversized input.
msgpack::object_handle unpack_trace_payload(const std::string& payload);

} // namespace seg::io
