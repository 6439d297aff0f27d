#include "actors/provider_supervisor.hpp"

#include "actors/provider_actor.hpp"
#include "metrics/gateway_metrics.hpp"

namespace sb::actors {
namespace {

struct supervisor_state {
  std::vector<provider_config> providers;
  retry_config retry;
  provider_directory* directory = nullptr;
  gateway_metrics* metrics = nullptr;
  cooldown_publisher publish;
  std::map<caf::actor_addr, std::size_t> watched;  // provider actor -> index in providers
  // The live providers by index, shared with the exit hook: the state (and
  // maybe the directory) is gone by the time it runs.
  std::shared_ptr<std::map<std::size_t, provider_actor>> live =
      std::make_shared<std::map<std::size_t, provider_actor>>();
  static inline const char* name = "provider_supervisor";
};

void start(caf::stateful_actor<supervisor_state>* self, std::size_t i) {
  auto& st = self->state;
  auto a = spawn_provider_actor(self->system(), st.providers[i], st.retry, st.metrics, st.publish);
  self->monitor(a);
  st.watched[a.address()] = i;
  (*st.live)[i] = a;
  st.directory->set(st.providers[i].id, a);
}

caf::behavior supervisor_impl(caf::stateful_actor<supervisor_state>* self, gateway_config cfg,
                              provider_directory* directory, gateway_metrics* metrics,
                              cooldown_publisher publish) {
  auto& st = self->state;
  st.publish = std::move(publish);
  st.providers = cfg.providers;
  st.retry = cfg.retry;
  st.directory = directory;
  st.metrics = metrics;
  for (std::size_t i = 0; i < st.providers.size(); ++i) start(self, i);

  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.watched.find(dm.source);
    if (i == st.watched.end()) return;
    auto index = i->second;
    st.watched.erase(i);
    if (self->getf(caf::abstract_actor::is_terminated_flag)) return;
    start(self, index);
  });
  // Monitors, not links: a provider's death is a restart, never ours. When
  // we stop, the providers stop with us.
  self->attach_functor([live = st.live] {
    for (auto& [i, a] : *live) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  });
  return {[](caf::get_atom) { return true; },
          [=](cooldown_atom a, cooldown_notice& n) {
            for (auto& [i, p] : *self->state.live)
              if (self->state.providers[i].id == n.provider) self->send(p, a, std::move(n));
          }};
}

}  // namespace

caf::actor spawn_provider_supervisor(caf::actor_system& sys, const gateway_config& cfg,
                                     provider_directory* directory, gateway_metrics* metrics,
                                     cooldown_publisher publish) {
  return sys.spawn(supervisor_impl, cfg, directory, metrics, std::move(publish));
}

}  // namespace sb::actors
