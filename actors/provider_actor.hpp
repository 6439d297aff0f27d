#pragma once
#include "actors/messages.hpp"
#include "core/config.hpp"

namespace sb {
class gateway_metrics;
}

namespace sb::actors {

/// Spawns the actor for one provider with one supervised key actor per key.
provider_actor spawn_provider_actor(caf::actor_system& sys, provider_config provider,
                                    retry_config retry, gateway_metrics* metrics);

}  // namespace sb::actors
