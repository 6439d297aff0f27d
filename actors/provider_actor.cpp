#include "actors/provider_actor.hpp"

#include <algorithm>

#include "actors/key_actor.hpp"
#include "core/log.hpp"
#include "metrics/gateway_metrics.hpp"

namespace sb::actors {
namespace {

// How long an acquire waits for a key whose state is being recomputed after
// a failure: the key actor answers within microseconds.
constexpr auto update_pending_wait = std::chrono::milliseconds(2);

struct slot {
  key_actor actor;
  key_snapshot view;     // the provider's copy of the key's last state
  bool updating = false; // a failure was reported and the key has not answered yet
  std::optional<key_status> published;  // what switchboard_key_state shows now
};

struct provider_actor_state {
  provider_config cfg;
  retry_config retry;
  gateway_metrics* metrics = nullptr;
  cooldown_publisher publish;  // empty on a single node
  std::vector<slot> slots;
  std::size_t next = 0;              // round-robin position
  clock::time_point skip_until{};    // provider out of credit until then (402)
  // The live key actors, shared with the exit hook: the state is gone by then.
  std::shared_ptr<std::vector<key_actor>> live = std::make_shared<std::vector<key_actor>>();
  static inline const char* name = "provider";
};

using self_ptr = provider_actor::stateful_pointer<provider_actor_state>;

/// A key's state as ops see it now: invalid stays invalid; the provider-wide
/// skip after 402 covers every other key; a cooldown ends by the clock, so the
/// key's own last word ("cooling") is not taken as is.
key_status effective_state(const provider_actor_state& st, const key_snapshot& s, clock::time_point now) {
  if (s.state == key_status::invalid) return key_status::invalid;
  if (now < st.skip_until) return key_status::quota_exhausted;
  return s.ready_at > now ? key_status::cooling : key_status::ready;
}

/// Sets the key's gauge when its state changed: on every request it usually
/// has not, and the gauge update costs four labelled lookups.
void publish_key_state(provider_actor_state& st, slot& s, clock::time_point now) {
  auto state = effective_state(st, s.view, now);
  if (!st.metrics || s.published == state) return;
  s.published = state;
  st.metrics->key_state(st.cfg.id, s.view.id, to_string(state));
}

void publish_all(provider_actor_state& st, clock::time_point now) {
  for (auto& s : st.slots) publish_key_state(st, s, now);
}

/// switchboard_key_state must turn back to ready when a cooldown or a quota
/// skip ends, though no request may come to notice. A one-shot timer, linked
/// so that it dies with us, asks for a snapshot then: answering one
/// republishes every key.
void republish_at(self_ptr self, clock::time_point when) {
  auto delay = std::chrono::ceil<std::chrono::milliseconds>(when - clock::now()) + std::chrono::milliseconds(1);
  if (delay <= std::chrono::milliseconds(1)) return;
  auto me = caf::actor_cast<provider_actor>(self);
  self->spawn<caf::linked>([me, delay](caf::event_based_actor* timer) -> caf::behavior {
    timer->delayed_send(timer, delay, wake_atom::value);
    return {[=](wake_atom) {
      timer->send(me, snapshot_atom::value);
      timer->quit();
    }};
  });
}

/// Ops must hear of a rejected key: an ERROR line naming it by id, never by
/// its secret (SPEC section 2).
void log_invalid_key(const provider_actor_state& st, const key_snapshot& s, int status) {
  log::error("provider " + st.cfg.id + ": key " + s.id + " was rejected (HTTP " +
             (status ? std::to_string(status) : std::string("in-stream")) +
             "); it is marked invalid and not used again until reload");
}

key_grant acquire(provider_actor_state& st, clock::time_point now) {
  key_grant g;
  if (now < st.skip_until) {
    g.what = key_grant::kind::unavailable;
    g.reason = "quota_exhausted";
    return g;
  }
  auto n = st.slots.size();
  std::optional<clock::time_point> soonest;
  for (std::size_t i = 0; i < n; ++i) {
    auto idx = (st.next + i) % n;
    auto& s = st.slots[idx];
    if (s.view.state == key_status::invalid) continue;
    auto ready = s.updating ? now + update_pending_wait : s.view.ready_at;
    if (!s.updating && ready <= now) {
      st.next = idx + 1;
      g.what = key_grant::kind::leased;
      g.slot = idx;
      g.key_id = st.cfg.keys[idx].id;
      g.secret = st.cfg.keys[idx].secret;
      return g;
    }
    if (!soonest || ready < *soonest) soonest = ready;
  }
  if (!soonest) {
    g.what = key_grant::kind::unavailable;
    g.reason = "every key is invalid";
    return g;
  }
  g.what = key_grant::kind::wait;
  g.ready_at = *soonest;
  return g;
}

/// Every key's state, asked of the keys themselves: a report this actor
/// forwarded to a key before the question is in that key's answer, so
/// /admin/keys never shows a state older than the answer its caller already
/// got (the provider's own copy lags by one round trip to the key).
caf::typed_response_promise<std::vector<key_snapshot>> snapshot_of_keys(self_ptr self) {
  auto rp = self->make_response_promise<std::vector<key_snapshot>>();
  auto& st = self->state;
  auto n = st.slots.size();
  auto out = std::make_shared<std::vector<key_snapshot>>(n);
  auto left = std::make_shared<std::size_t>(n);
  auto done = [self, rp, out, left]() mutable {
    if (--*left != 0) return;
    auto& st = self->state;
    auto now = clock::now();
    for (auto& snap : *out) {
      snap.state = effective_state(st, snap, now);
      // Also how the end of a cooldown reaches the gauge.
      if (st.metrics) st.metrics->key_state(st.cfg.id, snap.id, to_string(snap.state));
    }
    rp.deliver(std::move(*out));
  };
  if (n == 0) {
    rp.deliver(std::vector<key_snapshot>{});
    return rp;
  }
  for (std::size_t i = 0; i < n; ++i) {
    self->request(st.slots[i].actor, std::chrono::seconds(1), snapshot_atom::value)
        .then([=](key_snapshot& snap) mutable { (*out)[i] = std::move(snap); done(); },
              // A key that just died: what the provider last knew of it.
              [=](caf::error&) mutable { (*out)[i] = self->state.slots[i].view; done(); });
  }
  return rp;
}

key_actor start_key(self_ptr self, key_snapshot initial) {
  auto k = spawn_key_actor(self->system(), std::move(initial), self->state.retry);
  self->monitor(k);
  return k;
}

/// The key's new state after a report or a notice: the provider's copy, the
/// gauge, and the timer that turns the gauge back to ready.
void take_key_answer(self_ptr self, std::size_t slot_index, const key_actor& key, key_snapshot& snap) {
  auto& st = self->state;
  auto& s = st.slots[slot_index];
  if (s.actor != key) return;  // answered by a key since replaced
  s.view = std::move(snap);
  s.updating = false;
  auto now = clock::now();
  publish_key_state(st, s, now);
  if (s.view.ready_at > now) republish_at(self, s.view.ready_at);
}

/// Tells the other nodes what this node just learned of a key (key id and
/// wall-clock time only, never the secret).
void announce(const provider_actor_state& st, const key_snapshot& snap) {
  if (!st.publish) return;
  cooldown_notice n;
  n.provider = st.cfg.id;
  n.key_id = snap.id;
  n.invalid = snap.state == key_status::invalid;
  n.ready_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(snap.cooldown_until.time_since_epoch()).count();
  if (!n.invalid && snap.cooldown_until <= wall_clock::now()) return;
  st.publish(n);
}

provider_actor::behavior_type provider_actor_impl(self_ptr self, provider_config cfg,
                                                  retry_config retry, gateway_metrics* metrics,
                                                  cooldown_publisher publish) {
  auto& st = self->state;
  st.retry = retry;
  st.metrics = metrics;
  st.publish = std::move(publish);
  // Set before the first publish: the gauge's provider label comes from it.
  st.cfg = std::move(cfg);
  for (auto& k : st.cfg.keys) {
    key_snapshot s;
    s.id = k.id;
    s.provider = st.cfg.id;
    st.slots.push_back(slot{start_key(self, s), s, false});
    publish_key_state(st, st.slots.back(), clock::now());
  }

  // Keys live and die with their provider.
  for (auto& s : st.slots) st.live->push_back(s.actor);
  self->attach_functor([live = st.live] {
    for (auto& k : *live) caf::anon_send_exit(k, caf::exit_reason::user_shutdown);
  });
  // Supervision: a key actor that dies is replaced by one that starts from
  // what the provider last knew of it, so a crash loses no cooldown.
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& s : st.slots) {
      if (s.actor.address() != dm.source) continue;
      s.updating = false;
      auto old = s.actor;
      s.actor = start_key(self, s.view);
      std::replace(st.live->begin(), st.live->end(), old, s.actor);
    }
  });

  return {
      [=](acquire_atom, const std::string&) { return acquire(self->state, clock::now()); },
      [=](report_atom, attempt_report& r) {
        auto& st = self->state;
        if (r.slot >= st.slots.size()) return;
        auto now = clock::now();
        if (!r.ok && r.kind == providers::failure_kind::out_of_credit) {
          st.skip_until = now + st.retry.quota_skip;
          publish_all(st, now);
          republish_at(self, st.skip_until);
        }
        auto& s = st.slots[r.slot];
        if (!r.ok && (r.kind == providers::failure_kind::auth_invalid ||
                      r.kind == providers::failure_kind::rate_limited)) {
          s.updating = true;  // not handed out until the key has taken this in
        }
        if (!r.ok && r.kind == providers::failure_kind::auth_invalid) {
          if (st.metrics) st.metrics->credential_error(st.cfg.id, s.view.id);
          log_invalid_key(st, s.view, r.status);
        }
        auto slot_index = r.slot;
        auto key = s.actor;
        bool cools = !r.ok && (r.kind == providers::failure_kind::auth_invalid ||
                               r.kind == providers::failure_kind::rate_limited);
        self->request(key, caf::infinite, report_atom::value, std::move(r))
            .then(
                [=](key_snapshot& snap) {
                  if (cools) announce(self->state, snap);
                  take_key_answer(self, slot_index, key, snap);
                },
                [=](caf::error&) {
                  // The key died mid-request; the down handler restarts it.
                  self->state.slots[slot_index].updating = false;
                });
      },
      [=](snapshot_atom) { return snapshot_of_keys(self); },
      [=](keys_atom) {
        std::vector<key_actor> out;
        for (auto& s : self->state.slots) out.push_back(s.actor);
        return out;
      },
      [=](cooldown_atom, cooldown_notice& n) {
        auto& st = self->state;
        if (n.provider != st.cfg.id) return;
        for (std::size_t i = 0; i < st.slots.size(); ++i) {
          if (st.slots[i].view.id != n.key_id) continue;
          auto key = st.slots[i].actor;
          st.slots[i].updating = true;  // not handed out until the key has taken this in
          self->request(key, caf::infinite, cooldown_atom::value, n)
              .then([=](key_snapshot& snap) { take_key_answer(self, i, key, snap); },
                    [=](caf::error&) { self->state.slots[i].updating = false; });
          return;
        }
      },
  };
}

}  // namespace

provider_actor spawn_provider_actor(caf::actor_system& sys, provider_config provider,
                                    retry_config retry, gateway_metrics* metrics,
                                    cooldown_publisher publish) {
  return sys.spawn(provider_actor_impl, std::move(provider), retry, metrics, std::move(publish));
}

}  // namespace sb::actors
