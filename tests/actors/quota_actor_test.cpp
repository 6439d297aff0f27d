#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "actors/quota_actor.hpp"
#include "cluster/billing_period.hpp"
#include "cluster/local_quota_store.hpp"
#include "cluster/redis_quota_store.hpp"

using namespace sb::actors;
using namespace sb::cluster;
using namespace std::chrono_literals;

namespace {

/// A local store that can be switched "down" like a Redis outage.
class flaky_quota_store final : public quota_store {
 public:
  std::atomic<bool> down{false};
  local_quota_store real;

  store_result<quota_decision> reserve(const std::string& w, const std::string& p, quota_amount a,
                                       const quota_caps& c) override {
    if (down) return make_store_error(store_errc::unavailable, "redis down (test)");
    return real.reserve(w, p, a, c);
  }
  store_status settle(const quota_reservation& r, quota_amount actual) override {
    if (down) return make_store_error(store_errc::unavailable, "redis down (test)");
    return real.settle(r, actual);
  }
  store_result<quota_amount> usage(const std::string& w, const std::string& p) override {
    if (down) return make_store_error(store_errc::unavailable, "redis down (test)");
    return real.usage(w, p);
  }
  store_status ping() override {
    if (down) return make_store_error(store_errc::unavailable, "redis down (test)");
    return std::nullopt;
  }
  const char* backend() const override { return "flaky"; }
};

struct actor_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  actor_fixture() {
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

quota_answer reserve(caf::scoped_actor& self, const quota_actor& q, quota_request req) {
  quota_answer out;
  self->request(q, 5s, reserve_atom::value, std::move(req))
      .receive([&](quota_answer& a) { out = std::move(a); },
               [&](caf::error& e) { FAIL(self->system().render(e)); });
  return out;
}

settle_answer settle(caf::scoped_actor& self, const quota_actor& q, const quota_reservation& r,
                     quota_amount actual) {
  settle_answer out;
  self->request(q, 5s, settle_atom::value, r, actual)
      .receive([&](settle_answer& a) { out = a; }, [&](caf::error& e) { FAIL(self->system().render(e)); });
  return out;
}

quota_amount used(caf::scoped_actor& self, const quota_actor& q, const std::string& ws,
                  const std::string& period) {
  quota_amount out;
  self->request(q, 5s, usage_atom::value, ws, period)
      .receive(
          [&](quota_usage_reply& r) {
            REQUIRE_FALSE(r.error);
            out = r.used;
          },
          [&](caf::error& e) { FAIL(self->system().render(e)); });
  return out;
}

quota_request capped(const std::string& ws, std::int64_t tokens, std::int64_t cap) {
  quota_request r;
  r.workspace = ws;
  r.period = "2025-03";
  r.amount.tokens = tokens;
  r.caps.tokens = cap;
  return r;
}

std::string fresh_workspace() {
  std::mt19937_64 rng{std::random_device{}()};
  return "ws_" + std::to_string(rng());
}

}  // namespace

TEST_CASE_METHOD(actor_fixture, "quota actor admits, refuses and settles", "[quota_actor]") {
  auto q = spawn_quota_actor(*sys, std::make_shared<local_quota_store>());
  caf::scoped_actor self{*sys};
  auto a = reserve(self, q, capped("acme", 4096, 5000));
  REQUIRE(a.verdict == quota_verdict::admitted);
  CHECK(a.metered());
  CHECK(a.period == "2025-03");
  CHECK(a.decision.remaining_tokens == 904);
  auto refused = reserve(self, q, capped("acme", 4096, 5000));
  CHECK(refused.verdict == quota_verdict::refused);
  CHECK(refused.decision.refused_by == quota_limit::tokens);
  CHECK(refused.decision.used.tokens == 4096);

  auto s = settle(self, q, a.decision.reservation, {120, 0});
  CHECK(s.applied);
  CHECK(s.pending == 0);
  CHECK(used(self, q, "acme", "2025-03").tokens == 120);
  CHECK(reserve(self, q, capped("acme", 4096, 5000)).verdict == quota_verdict::admitted);
  self->send_exit(q, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(actor_fixture, "quota actor lets an uncapped workspace through without counting",
                 "[quota_actor]") {
  auto store = std::make_shared<flaky_quota_store>();
  store->down = true;  // not even an outage stops it: there is nothing to protect
  auto q = spawn_quota_actor(*sys, store);
  caf::scoped_actor self{*sys};
  quota_request r;
  r.workspace = "open";
  r.amount.tokens = 1'000'000;
  auto a = reserve(self, q, r);
  CHECK(a.verdict == quota_verdict::admitted);
  CHECK_FALSE(a.metered());
  CHECK(a.period == current_period());  // empty period: this month
  CHECK_FALSE(a.decision.remaining_tokens);
  CHECK(settle(self, q, a.decision.reservation, {10, 0}).applied);
  self->send_exit(q, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(actor_fixture, "quota actor fails closed while the store is down and catches up after",
                 "[quota_actor]") {
  auto store = std::make_shared<flaky_quota_store>();
  auto counters = std::make_shared<quota_counters>();
  quota_actor_options opts;
  opts.settle_retry_interval = 20ms;
  auto q = spawn_quota_actor(*sys, store, opts, counters);
  caf::scoped_actor self{*sys};
  auto a = reserve(self, q, capped("acme", 1000, 1000));
  REQUIRE(a.verdict == quota_verdict::admitted);

  store->down = true;
  auto refused = reserve(self, q, capped("acme", 1, 1000));
  CHECK(refused.verdict == quota_verdict::unavailable);
  CHECK_FALSE(refused.error.empty());
  CHECK(counters->unavailable == 1);
  auto s = settle(self, q, a.decision.reservation, {100, 0});  // the call ended during the outage
  CHECK_FALSE(s.applied);
  CHECK(s.pending == 1);
  CHECK(counters->pending_settles == 1);
  self->request(q, 5s, health_atom::value)
      .receive([&](store_health& h) { CHECK(h.error); }, [&](caf::error& e) { FAIL(sys->render(e)); });

  store->down = false;
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (counters->pending_settles != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  CHECK(counters->pending_settles == 0);
  CHECK(used(self, q, "acme", "2025-03").tokens == 100);  // the settle was applied once
  CHECK(reserve(self, q, capped("acme", 900, 1000)).verdict == quota_verdict::admitted);
  CHECK(counters->dropped_settles == 0);
  self->send_exit(q, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(actor_fixture, "quota actors of three nodes on one Redis admit no more than the cap",
                 "[quota_actor][redis]") {
  const char* url = std::getenv("SB_TEST_REDIS_URL");
  if (!url || !*url) {
    WARN("SB_TEST_REDIS_URL is not set: SKIPPED");
    return;
  }
  std::vector<quota_actor> nodes;
  for (int i = 0; i < 3; ++i) {
    auto store = redis_quota_store::from_url(url);
    REQUIRE(store);
    nodes.push_back(spawn_quota_actor(*sys, std::shared_ptr<quota_store>(std::move(*store))));
  }
  const auto ws = fresh_workspace();
  const std::int64_t cap = 1000, ask = 64;  // 15 fit
  std::atomic<int> admitted{0}, other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 6; ++c)
    clients.emplace_back([&, c] {
      caf::scoped_actor self{*sys};
      for (int i = 0; i < 10; ++i) {
        auto a = reserve(self, nodes[(c + i) % 3], capped(ws, ask, cap));
        if (a.verdict == quota_verdict::admitted) {
          ++admitted;
          // Half the calls use all they reserved, half use nothing (failed).
          settle(self, nodes[(c + i + 1) % 3], a.decision.reservation, {i % 2 ? ask : 0, 0});
        } else if (a.verdict != quota_verdict::refused) {
          ++other;
        }
      }
    });
  for (auto& t : clients) t.join();
  CHECK(other == 0);
  caf::scoped_actor self{*sys};
  auto total = used(self, nodes[0], ws, "2025-03").tokens;
  CHECK(total <= cap);
  CHECK(total % ask == 0);
  CHECK(admitted >= cap / ask);  // settles gave tokens back: at least the cap's worth got in
  for (auto& n : nodes) self->send_exit(n, caf::exit_reason::user_shutdown);
}
