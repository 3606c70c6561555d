#pragma once

namespace caf {
class actor_system_config;
}

namespace seg {

/// Registers every message type with the same names in every process.
void register_message_types(caf::actor_system_config& cfg);

} // namespace seg
