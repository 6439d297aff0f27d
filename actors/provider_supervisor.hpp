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
caf::actor spawn_provider_supervisor(caf::actor_system& sys, const gateway_config& cfg,
                                     provider_directory* directory, gateway_metrics* metrics);

}  // namespace sb::actors
