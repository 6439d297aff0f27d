#include "actors/quota_actor.hpp"

#include <deque>
#include <utility>

#include "cluster/billing_period.hpp"
#include "core/log.hpp"

namespace sb::actors {
namespace {

struct pending_settle {
  cluster::quota_reservation reservation;
  cluster::quota_amount actual;
};

struct quota_state {
  std::shared_ptr<cluster::quota_store> store;
  quota_actor_options options;
  std::shared_ptr<quota_counters> counters;
  std::deque<pending_settle> pending;
  bool tick_pending = false;
  static inline const char* name = "quota";

  void publish() { counters->pending_settles = pending.size(); }

  /// Applies queued settles in order; stops at the first that cannot reach
  /// the store. Returns false when some remain.
  bool retry_pending() {
    while (!pending.empty()) {
      auto& p = pending.front();
      if (auto e = store->settle(p.reservation, p.actual)) {
        if (e->code == cluster::store_errc::unavailable) break;
        drop(p, *e);
      } else if (pending.size() == 1) {
        log::info("quota: store reachable again; queued settles applied");
      }
      pending.pop_front();
    }
    publish();
    return pending.empty();
  }

  void drop(const pending_settle& p, const cluster::store_error& e) {
    ++counters->dropped_settles;
    log::error("quota: settle for workspace " + p.reservation.workspace + " period " +
               p.reservation.period + " dropped: " + e.to_string());
  }

  void enqueue(pending_settle p) {
    if (pending.size() >= options.max_pending_settles) {
      drop(p, {cluster::store_errc::unavailable, "settle queue full"});
      return;
    }
    if (pending.empty())
      log::warn("quota: store unreachable; keeping settles to apply when it returns");
    pending.push_back(std::move(p));
    publish();
  }
};

quota_actor::behavior_type quota_impl(quota_actor::stateful_pointer<quota_state> self,
                                      std::shared_ptr<cluster::quota_store> store,
                                      quota_actor_options options,
                                      std::shared_ptr<quota_counters> counters) {
  self->state.store = std::move(store);
  self->state.options = options;
  self->state.counters = std::move(counters);
  auto arm = [self] {
    auto& st = self->state;
    if (st.tick_pending || st.pending.empty()) return;
    st.tick_pending = true;
    self->delayed_send(self, st.options.settle_retry_interval, tick_atom::value);
  };
  return {
      [self, arm](reserve_atom, const quota_request& req) {
        auto& st = self->state;
        quota_answer a;
        a.period = req.period.empty() ? cluster::current_period() : req.period;
        if (!req.caps.any()) {  // nothing to protect: no store round trip, no outage impact
          a.verdict = quota_verdict::admitted;
          return a;
        }
        // Settles owed from an outage first: they usually give tokens back.
        if (!st.pending.empty()) {
          st.retry_pending();
          arm();
        }
        auto d = st.store->reserve(req.workspace, a.period, req.amount, req.caps);
        if (!d) {
          ++st.counters->unavailable;
          a.verdict = quota_verdict::unavailable;
          a.error = d.error().to_string();
          return a;
        }
        a.decision = std::move(*d);
        a.verdict = a.decision.admitted ? quota_verdict::admitted : quota_verdict::refused;
        return a;
      },
      [self, arm](settle_atom, const cluster::quota_reservation& r,
                  const cluster::quota_amount& actual) {
        auto& st = self->state;
        if (r.workspace.empty()) return settle_answer{true, st.pending.size()};  // unmetered
        pending_settle p{r, actual};
        // Keep order: never apply a settle ahead of older queued ones.
        if (st.pending.empty() || st.retry_pending()) {
          if (auto e = st.store->settle(r, actual)) {
            if (e->code == cluster::store_errc::unavailable) st.enqueue(std::move(p));
            else st.drop(p, *e);
            arm();
            return settle_answer{false, st.pending.size()};
          }
          return settle_answer{true, 0};
        }
        st.enqueue(std::move(p));
        arm();
        return settle_answer{false, st.pending.size()};
      },
      [self](usage_atom, const std::string& workspace, const std::string& period) {
        quota_usage_reply reply;
        auto u = self->state.store->usage(workspace, period);
        if (u) reply.used = *u;
        else reply.error = u.error();
        return reply;
      },
      [self](health_atom) {
        auto& store = *self->state.store;
        return store_health{store.ping(), store.backend()};
      },
      [self, arm](tick_atom) {
        self->state.tick_pending = false;
        self->state.retry_pending();
        arm();
      },
  };
}

}  // namespace

quota_actor spawn_quota_actor(caf::actor_system& sys, std::shared_ptr<cluster::quota_store> store,
                              quota_actor_options options, std::shared_ptr<quota_counters> counters) {
  if (!counters) counters = std::make_shared<quota_counters>();
  return sys.spawn<caf::detached>(quota_impl, std::move(store), options, std::move(counters));
}

}  // namespace sb::actors
