#pragma once
#include "actors/key_state.hpp"
#include "actors/messages.hpp"

namespace sb::actors {

/// Spawns a key actor that starts from `initial` (fresh, or what a
/// predecessor knew when the provider restarts it).
key_actor spawn_key_actor(caf::actor_system& sys, key_snapshot initial, retry_config retry);

}  // namespace sb::actors
