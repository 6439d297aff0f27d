// Rollout notifications between nodes (SPEC 8, ADR-0012): two notifiers on
// one Redis (SB_TEST_REDIS_URL, tests/services.sh) stand for two nodes.

#include <catch2/catch.hpp>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <random>
#include <vector>

#include "cluster/rollout_notifier.hpp"

using namespace sb::cluster;
using namespace std::chrono_literals;

namespace {

/// What one node was told, in order.
struct received {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::string>> items;

  rollout_notifier::callback callback() {
    return [this](const std::string& name, const std::string& json) {
      std::lock_guard lock(m);
      items.emplace_back(name, json);
      cv.notify_all();
    };
  }
  bool wait_for(const std::string& name, const std::string& json, std::chrono::milliseconds t = 5s) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, t, [&] {
      for (auto& i : items)
        if (i.first == name && i.second == json) return true;
      return false;
    });
  }
};

/// Keys of their own, so parallel runs on one Redis do not hear each other.
rollout_notifier_options isolated() {
  static std::mt19937_64 rng{std::random_device{}()};
  auto tag = std::to_string(rng());
  rollout_notifier_options o;
  o.channel = "sb:test:rollout:" + tag;
  o.hash = "sb:test:rollouts:" + tag;
  o.poll_interval = 50ms;
  o.reconnect_pause = 100ms;
  return o;
}

bool wait_subscribed(const rollout_notifier& n) {
  for (int i = 0; i < 100 && !n.subscribed(); ++i) std::this_thread::sleep_for(20ms);
  return n.subscribed();
}

}  // namespace

TEST_CASE("a rollout published on one node reaches the other and a late node catches up",
          "[rollout_notifier]") {
  const char* url = std::getenv("SB_TEST_REDIS_URL");
  if (!url || !*url) {
    WARN("SB_TEST_REDIS_URL is not set: the rollout notifier test is SKIPPED");
    return;
  }
  auto options = isolated();
  received on_a, on_b;
  auto a = rollout_notifier::start(url, on_a.callback(), options);
  auto b = rollout_notifier::start(url, on_b.callback(), options);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(wait_subscribed(**a));
  REQUIRE(wait_subscribed(**b));

  const std::string split = R"({"canary":{"percent":10,"version":3},"stable":2})";
  REQUIRE_FALSE((*a)->publish("helper", split));
  CHECK(on_b.wait_for("helper", split));
  CHECK(on_a.wait_for("helper", split));  // its own too: applying it again is a no-op

  const std::string promoted = R"({"stable":3})";
  REQUIRE_FALSE((*b)->publish("helper", promoted));
  CHECK(on_a.wait_for("helper", promoted));

  // A node that was not there hears the latest split of every prompt at start.
  REQUIRE_FALSE((*a)->publish("other", R"({"stable":1})"));
  received on_c;
  auto c = rollout_notifier::start(url, on_c.callback(), options);
  REQUIRE(c);
  CHECK(on_c.wait_for("helper", promoted));
  CHECK(on_c.wait_for("other", R"({"stable":1})"));
  {
    std::lock_guard lock(on_c.m);
    for (auto& i : on_c.items) CHECK(i.second != split);  // only the latest per prompt
  }

  // Stopping is prompt (the thread polls) and leaves the others working.
  auto before = std::chrono::steady_clock::now();
  c->reset();
  CHECK(std::chrono::steady_clock::now() - before < 2s);
  REQUIRE_FALSE((*b)->publish("helper", split));
  CHECK(on_a.wait_for("helper", split));
}

TEST_CASE("publishing to an unreachable Redis is an error value", "[rollout_notifier]") {
  received none;
  auto options = isolated();
  options.redis.connect_timeout = 200ms;
  auto n = rollout_notifier::start("redis://127.0.0.1:1", none.callback(), options);
  REQUIRE(n);
  auto e = (*n)->publish("helper", R"({"stable":1})");
  REQUIRE(e);
  CHECK(e->code == store_errc::unavailable);
  CHECK_FALSE(rollout_notifier::start("http://nope", none.callback(), options));
}
