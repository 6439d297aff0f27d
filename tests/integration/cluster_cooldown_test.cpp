// SPEC section 5: "In cluster mode a cooldown learned on one node holds on
// every node." Two in-process gateways on one Redis, each with its own fake
// provider and the same key ids: a 429 on node A's key 1 cools key 1 on node
// B too, so B's fake never sees key 1 (ADR-0006 "Cooldowns in a cluster").

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "cluster/redis_connection.hpp"
#include "tests/integration/cascade_helpers.hpp"

using namespace sb::testing;
using sb::fakes::error_reply;
using sb::fakes::fake_provider;
using sb::fakes::wire_format;
using namespace std::chrono_literals;

namespace {

/// The cluster's memory of cooldowns outlives a gateway: cleared around the
/// test so neither it nor a later test on the same Redis inherits one.
void forget_cooldowns(const std::string& redis_url) {
  auto ep = sb::cluster::parse_redis_url(redis_url);
  REQUIRE(ep);
  sb::cluster::redis_connection c(*ep, {});
  auto r = c.command({"DEL", "sb:keys:cooldowns"}, true);
  REQUIRE(r);
}

}  // namespace

TEST_CASE("a 429 on one node cools the key on every node sharing Redis", "[cascade][429][cluster]") {
  const char* redis = std::getenv("SB_TEST_REDIS_URL");
  if (!redis || !*redis) {
    WARN("SB_TEST_REDIS_URL is not set: the two-node cooldown test is SKIPPED (tests/services.sh)");
    return;
  }
  forget_cooldowns(redis);
  fake_provider fake_a, fake_b;
  running_gateway a(fast_config(), cascade_env(fake_a, {"openai"}, {"openai"}, {{"REDIS_URL", redis}}));
  running_gateway b(fast_config(), cascade_env(fake_b, {"openai"}, {"openai"}, {{"REDIS_URL", redis}}));
  fake_a.script_for_key("sk-openai-1", with_headers(error_reply(wire_format::openai, 429), {{"retry-after", "30"}}));

  auto r = a.chat(user_message("auto"));
  INFO("answer on A: " << r.body);
  REQUIRE(r.status == 200);
  REQUIRE(sent_with_key(fake_a, "sk-openai-1").size() == 1);
  auto told = std::chrono::steady_clock::now();

  // B learns it from Redis, not from an upstream answer of its own.
  std::map<std::string, nlohmann::json> keys;
  while (true) {
    keys = admin_keys(b);
    if (keys["openai#1"]["state"] == "cooling" || std::chrono::steady_clock::now() - told > 2s) break;
    std::this_thread::sleep_for(10ms);
  }
  auto took = std::chrono::steady_clock::now() - told;
  REQUIRE(keys["openai#1"]["state"] == "cooling");
  CHECK(took < 500ms);
  REQUIRE(keys["openai#1"]["cooldown_until"].is_string());
  auto left = seconds_until(keys["openai#1"]["cooldown_until"]);
  CHECK(left > 27);
  CHECK(left <= 31);
  CHECK(keys["openai#1"]["last_status"].is_null());  // B itself never called with key 1
  CHECK(keys["openai#2"]["state"] == "ready");

  // B's next requests go to key 2 at once: its fake never sees key 1.
  for (int i = 0; i < 3; ++i) {
    auto rb = b.chat(user_message("auto"));
    INFO("answer on B: " << rb.body);
    REQUIRE(rb.status == 200);
    CHECK(attempts_of(rb) == 1);
  }
  CHECK(sent_with_key(fake_b, "sk-openai-1").empty());
  CHECK(sent_with_key(fake_b, "sk-openai-2").size() == 3);
  forget_cooldowns(redis);
}
