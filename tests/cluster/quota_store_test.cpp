// Quota stores: the same behaviour in-process and on Redis; on Redis also
// atomicity under concurrency, idempotent retries, lost data and outages.
// The Redis half needs SB_TEST_REDIS_URL (tests/services.sh); without it a
// WARN says it was skipped.

#include <catch2/catch.hpp>

#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "cluster/local_quota_store.hpp"
#include "cluster/redis_quota_store.hpp"
#include "tests/cluster/ledger_backends.hpp"

using namespace sb::cluster;

namespace {

const char* redis_url() {
  const char* u = std::getenv("SB_TEST_REDIS_URL");
  return u && *u ? u : nullptr;
}

std::unique_ptr<quota_store> make_store(const std::string& kind, usage_seed seed = {}) {
  if (kind == "local") return std::make_unique<local_quota_store>(std::move(seed));
  auto s = redis_quota_store::from_url(redis_url(), {}, std::move(seed));
  REQUIRE(s);
  return std::move(*s);
}

/// Runs a raw command on the test Redis (inspect keys, flush data).
redis_reply raw(const std::vector<std::string>& argv) {
  auto ep = parse_redis_url(redis_url());
  REQUIRE(ep);
  static redis_connection conn(*ep, {});
  auto r = conn.command(argv, true);
  REQUIRE(r);
  return std::move(*r);
}

std::vector<std::string> kinds() {
  if (redis_url()) return {"local", "redis"};
  WARN("SB_TEST_REDIS_URL is not set: the redis half of the quota suite is SKIPPED");
  return {"local"};
}

std::string fresh_workspace() { return "ws_" + sb::test::random_suffix(); }

}  // namespace

TEST_CASE("quota: reserve admits while it fits and refuses past the cap", "[quota]") {
  for (const auto& kind : kinds()) {
    INFO(kind);
    auto store = make_store(kind);
    auto ws = fresh_workspace();
    quota_caps caps{1000, std::nullopt};
    auto a = store->reserve(ws, "2025-03", {600, 0}, caps);
    REQUIRE(a);
    CHECK(a->admitted);
    CHECK(a->used.tokens == 600);
    CHECK(a->remaining_tokens == 400);
    CHECK_FALSE(a->remaining_cost_micros);
    CHECK(a->reservation.workspace == ws);
    CHECK(a->reservation.period == "2025-03");
    CHECK(a->reservation.amount.tokens == 600);

    auto b = store->reserve(ws, "2025-03", {401, 0}, caps);
    REQUIRE(b);
    CHECK_FALSE(b->admitted);
    CHECK(b->refused_by == quota_limit::tokens);
    CHECK(b->used.tokens == 600);  // a refusal counts nothing
    CHECK(b->remaining_tokens == 400);

    auto c = store->reserve(ws, "2025-03", {400, 0}, caps);  // exactly the cap
    REQUIRE(c);
    CHECK(c->admitted);
    CHECK(c->remaining_tokens == 0);

    auto other_month = store->reserve(ws, "2025-04", {1000, 0}, caps);
    REQUIRE(other_month);
    CHECK(other_month->admitted);
  }
}

TEST_CASE("quota: settle replaces the reservation by the real usage", "[quota]") {
  for (const auto& kind : kinds()) {
    INFO(kind);
    auto store = make_store(kind);
    auto ws = fresh_workspace();
    quota_caps caps{10000, 5'000'000};
    auto a = store->reserve(ws, "2025-03", {4096, 20000}, caps);
    REQUIRE(a);
    REQUIRE(a->admitted);
    REQUIRE_FALSE(store->settle(a->reservation, {150, 700}));
    auto u = store->usage(ws, "2025-03");
    REQUIRE(u);
    CHECK(u->tokens == 150);
    CHECK(u->cost_micros == 700);

    // Used more than reserved (a provider that ignored max_tokens): counted.
    auto b = store->reserve(ws, "2025-03", {100, 100}, caps);
    REQUIRE(b);
    REQUIRE_FALSE(store->settle(b->reservation, {300, 900}));
    u = store->usage(ws, "2025-03");
    REQUIRE(u);
    CHECK(u->tokens == 450);
    CHECK(u->cost_micros == 1600);
  }
}

TEST_CASE("quota: settling twice counts once", "[quota]") {
  if (!redis_url()) {
    WARN("SB_TEST_REDIS_URL is not set: SKIPPED");
    return;
  }
  auto store = make_store("redis");
  auto ws = fresh_workspace();
  auto a = store->reserve(ws, "2025-03", {1000, 0}, {5000, std::nullopt});
  REQUIRE(a);
  REQUIRE_FALSE(store->settle(a->reservation, {10, 0}));
  REQUIRE_FALSE(store->settle(a->reservation, {10, 0}));  // a retry after a lost reply
  auto u = store->usage(ws, "2025-03");
  REQUIRE(u);
  CHECK(u->tokens == 10);
}

TEST_CASE("quota: the cost cap refuses in micro-dollars", "[quota]") {
  for (const auto& kind : kinds()) {
    INFO(kind);
    auto store = make_store(kind);
    auto ws = fresh_workspace();
    quota_caps caps{std::nullopt, 1'000'000};  // $1
    auto a = store->reserve(ws, "2025-03", {10, 999'999}, caps);
    REQUIRE(a);
    CHECK(a->admitted);
    CHECK(a->remaining_cost_micros == 1);
    CHECK_FALSE(a->remaining_tokens);
    auto b = store->reserve(ws, "2025-03", {10, 2}, caps);
    REQUIRE(b);
    CHECK_FALSE(b->admitted);
    CHECK(b->refused_by == quota_limit::cost);
  }
}

TEST_CASE("quota: a new counter starts from the seed (the ledger) - not zero", "[quota]") {
  for (const auto& kind : kinds()) {
    INFO(kind);
    int seeded = 0;
    auto store = make_store(kind, [&](const std::string&, const std::string& period)
                                      -> store_result<quota_amount> {
      ++seeded;
      if (period == "2025-01") return make_store_error(store_errc::unavailable, "ledger down");
      return quota_amount{900, 50};
    });
    auto ws = fresh_workspace();
    quota_caps caps{1000, std::nullopt};
    auto a = store->reserve(ws, "2025-03", {101, 0}, caps);
    REQUIRE(a);
    CHECK_FALSE(a->admitted);  // 900 already used this month
    CHECK(a->used.tokens == 900);
    auto b = store->reserve(ws, "2025-03", {100, 0}, caps);
    REQUIRE(b);
    CHECK(b->admitted);
    CHECK(seeded == 1);  // once per counter
    // The seed cannot be read: fail, do not guess zero.
    auto c = store->reserve(ws, "2025-01", {1, 0}, caps);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == store_errc::unavailable);
  }
}

TEST_CASE("quota: settle never drives a counter below zero", "[quota]") {
  for (const auto& kind : kinds()) {
    INFO(kind);
    auto store = make_store(kind);
    auto ws = fresh_workspace();
    auto a = store->reserve(ws, "2025-03", {10, 10}, {100, std::nullopt});
    REQUIRE(a);
    quota_reservation inflated = a->reservation;
    inflated.amount = {50, 50};  // more than the counter holds
    REQUIRE_FALSE(store->settle(inflated, {0, 0}));
    auto u = store->usage(ws, "2025-03");
    REQUIRE(u);
    CHECK(u->tokens == 0);
    CHECK(u->cost_micros == 0);
  }
}

TEST_CASE("quota: redis key name and TTL", "[quota][redis]") {
  if (!redis_url()) {
    WARN("SB_TEST_REDIS_URL is not set: SKIPPED");
    return;
  }
  auto store = make_store("redis");
  auto ws = fresh_workspace();
  REQUIRE(store->reserve(ws, "2025-03", {5, 0}, {10, std::nullopt}));
  CHECK(redis_quota_store::key_of(ws, "2025-03") == "sb:quota:" + ws + ":2025-03");
  auto ttl = raw({"TTL", redis_quota_store::key_of(ws, "2025-03")});
  CHECK(ttl->integer > 39 * 24 * 3600);
  CHECK(ttl->integer <= 40 * 24 * 3600);
}

TEST_CASE("quota: 20 nodes reserving at once never pass the cap", "[quota][redis]") {
  if (!redis_url()) {
    WARN("SB_TEST_REDIS_URL is not set: SKIPPED");
    return;
  }
  auto ws = fresh_workspace();
  const std::int64_t cap = 50;
  std::atomic<int> admitted{0}, refused{0}, failed{0};
  std::vector<std::thread> nodes;
  for (int n = 0; n < 20; ++n)
    nodes.emplace_back([&] {
      auto store = redis_quota_store::from_url(redis_url());  // one connection per "node"
      if (!store) {
        ++failed;
        return;
      }
      for (int i = 0; i < 10; ++i) {
        auto d = (*store)->reserve(ws, "2025-03", {1 + i % 3, 0}, {cap, std::nullopt});
        if (!d) ++failed;
        else if (d->admitted) ++admitted;
        else ++refused;
      }
    });
  for (auto& t : nodes) t.join();
  CHECK(failed == 0);
  CHECK(admitted + refused == 200);
  auto store = make_store("redis");
  auto u = store->usage(ws, "2025-03");
  REQUIRE(u);
  CHECK(u->tokens <= cap);
  CHECK(u->tokens >= cap - 2);  // refused only when even the smallest ask did not fit... nearly
}

TEST_CASE("quota: after redis loses its data - counters are rebuilt from the seed", "[quota][redis]") {
  if (!redis_url()) {
    WARN("SB_TEST_REDIS_URL is not set: SKIPPED");
    return;
  }
  auto ws = fresh_workspace();
  quota_amount ledger_total{0, 0};
  auto store = make_store("redis", [&](const std::string&, const std::string&)
                                       -> store_result<quota_amount> { return ledger_total; });
  quota_caps caps{1000, std::nullopt};
  auto in_flight = store->reserve(ws, "2025-03", {300, 0}, caps);
  REQUIRE(in_flight);
  REQUIRE(in_flight->admitted);
  auto done = store->reserve(ws, "2025-03", {300, 0}, caps);
  REQUIRE(done);
  REQUIRE_FALSE(store->settle(done->reservation, {200, 0}));

  // Redis restarts without persistence; the ledger holds the settled call.
  raw({"DEL", redis_quota_store::key_of(ws, "2025-03")});
  ledger_total = {200, 0};

  auto after = store->reserve(ws, "2025-03", {100, 0}, caps);
  REQUIRE(after);
  CHECK(after->admitted);
  CHECK(after->used.tokens == 300);  // 200 from the ledger + this one
  // The call that was in flight during the loss settles: its counter is gone,
  // so its real usage is added (it was never in the rebuilt counter).
  REQUIRE_FALSE(store->settle(in_flight->reservation, {250, 0}));
  auto u = store->usage(ws, "2025-03");
  REQUIRE(u);
  CHECK(u->tokens == 550);
  REQUIRE_FALSE(store->settle(in_flight->reservation, {250, 0}));  // and only once
  CHECK(store->usage(ws, "2025-03")->tokens == 550);
}

TEST_CASE("quota: an unreachable redis is an unavailable error - fast", "[quota][redis]") {
  redis_options fast;
  fast.connect_timeout = std::chrono::milliseconds(200);
  redis_quota_store store({"127.0.0.1", 1, "", 0}, fast);  // nothing listens on port 1
  auto t0 = std::chrono::steady_clock::now();
  auto d = store.reserve("ws", "2025-03", {1, 0}, {10, std::nullopt});
  REQUIRE_FALSE(d);
  CHECK(d.error().code == store_errc::unavailable);
  // The next calls within the reconnect pause fail at once.
  for (int i = 0; i < 100; ++i) CHECK_FALSE(store.reserve("ws", "2025-03", {1, 0}, {10, std::nullopt}));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
  CHECK(store.settle({"ws", "2025-03", {1, 0}, "g", "id"}, {1, 0}));
  CHECK_FALSE(store.usage("ws", "2025-03"));
}

TEST_CASE("quota: a redis connection survives a server-side disconnect", "[quota][redis]") {
  if (!redis_url()) {
    WARN("SB_TEST_REDIS_URL is not set: SKIPPED");
    return;
  }
  auto store = make_store("redis");
  auto ws = fresh_workspace();
  REQUIRE(store->reserve(ws, "2025-03", {1, 0}, {10, std::nullopt}));
  // Kill every normal client connection (ours included, not the raw one's
  // next command, which reconnects too).
  auto ep = parse_redis_url(redis_url());
  redisContext* c = redisConnect(ep->host.c_str(), ep->port);
  REQUIRE(c);
  freeReplyObject(redisCommand(c, "CLIENT KILL TYPE normal SKIPME yes"));
  redisFree(c);
  auto d = store->reserve(ws, "2025-03", {1, 0}, {10, std::nullopt});
  REQUIRE(d);  // retried on a new connection
  CHECK(d->used.tokens == 2);
}
