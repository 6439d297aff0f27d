#pragma once
#include "actors/provider_directory.hpp"
#include "core/config.hpp"

namespace sb {
class gateway_metrics;
}

namespace sb::actors {

/// Spawns one provider actor per configured provider, publishes them in
/// `directory`, and restarts any that dies (its keys start fresh).
/// The returned actor stops its providers when it stops.
/// Cluster mode: `publish` hears the cooldowns the providers learn, and a
/// (cooldown_atom, cooldown_notice) sent to the returned actor reaches the
/// provider it names (queued until the providers exist).
caf::actor spawn_provider_supervisor(caf::actor_system& sys, const gateway_config& cfg,
                                     provider_directory* directory, gateway_metrics* metrics,
                                     cooldown_publisher publish = {});

}  // namespace sb::actors
