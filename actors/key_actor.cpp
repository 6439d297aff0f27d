#include "actors/key_actor.hpp"

namespace sb::actors {
namespace {

struct key_actor_state {
  key_state key{"", ""};
  retry_config retry;
  static inline const char* name = "key";
};

key_actor::behavior_type key_actor_impl(key_actor::stateful_pointer<key_actor_state> self,
                                        key_snapshot initial, retry_config retry) {
  self->state.key = key_state(std::move(initial));
  self->state.retry = retry;
  return {
      [=](report_atom, const attempt_report& r) {
        auto now = clock::now();
        self->state.key.apply(r, self->state.retry, now, wall_clock::now());
        return self->state.key.snapshot(now);
      },
      [=](snapshot_atom) { return self->state.key.snapshot(clock::now()); },
      [=](cooldown_atom, const cooldown_notice& n) {
        auto now = clock::now();
        self->state.key.apply_remote(n, now, wall_clock::now());
        return self->state.key.snapshot(now);
      },
  };
}

}  // namespace

key_actor spawn_key_actor(caf::actor_system& sys, key_snapshot initial, retry_config retry) {
  return sys.spawn(key_actor_impl, std::move(initial), retry);
}

}  // namespace sb::actors
