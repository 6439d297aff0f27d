#pragma once
#include "actors/messages.hpp"
#include "core/config.hpp"

namespace sb {
class gateway_metrics;
}

namespace sb::actors {

/// Spawns the actor for one provider with one supervised key actor per key.
/// `publish`, when set, hears every cooldown or invalidity this node learns
/// from an upstream answer (cluster mode); cooldowns learned from other
/// nodes arrive as cooldown_atom and are not published again.
provider_actor spawn_provider_actor(caf::actor_system& sys, provider_config provider,
                                    retry_config retry, gateway_metrics* metrics,
                                    cooldown_publisher publish = {});

}  // namespace sb::actors
