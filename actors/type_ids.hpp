#pragma once

namespace caf {
class actor_system_config;
}

namespace seg {

/// Registers every message type with the same names in every process, and
/// the "seg" error category.
void register_message_types(caf::actor_system_config& cfg);

/// Every segflow process's actor system: the message types, two scheduler
/// threads (workers are detached and have threads of their own), and CAF's
/// networking when the process talks to another one.
void configure_actor_system(caf::actor_system_config& cfg, bool network);

} // namespace seg
