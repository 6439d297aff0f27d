// The key pool under pressure: a 429 storm on one key must never delay a
// request another ready key could serve, walking the pool has its own budget
// apart from the 5xx retries, and /metrics tells ops what the keys are doing.

#include <chrono>
#include <thread>

#include "tests/integration/cascade_helpers.hpp"

using namespace sb::testing;
using nlohmann::json;
using sb::fakes::error_reply;
using sb::fakes::fake_provider;
using sb::fakes::wire_format;
using namespace std::chrono_literals;

namespace {

sb::fakes::scripted_reply long_429() {
  auto r = error_reply(wire_format::openai, 429);
  r.headers.emplace_back("retry-after", "60");
  return r;
}

}  // namespace

TEST_CASE("a 429 storm on one key never delays a request another ready key can serve", "[cascade][keys]") {
  fake_provider fake;
  running_gateway gw(fast_config(), cascade_env(fake, {"openai"}, {"openai"}));
  // Key 1 would answer 429 every time it is asked.
  for (int i = 0; i < 20; ++i) fake.script_for_key("sk-openai-1", long_429());

  for (int i = 0; i < 20; ++i) {
    INFO("request " << i);
    auto before = fake.request_count();
    auto r = gw.chat(user_message("auto"));
    INFO("answer: " << r.body);
    REQUIRE(r.status == 200);
    CHECK(std::stoi(r.header("x-gateway-attempts")) <= 2);
    CHECK(fake.request_count() - before <= 2);
  }
  // Tried once, then left alone while it cools; key 2 served everything.
  CHECK(sent_with_key(fake, "sk-openai-1").size() == 1);
  CHECK(sent_with_key(fake, "sk-openai-2").size() == 20);
  CHECK(fake.received()[0].api_key == "sk-openai-1");
}

TEST_CASE("the key-pool walk has its own budget: a 429 does not eat the 5xx retries", "[cascade][keys]") {
  fake_provider fake;
  running_gateway gw(fast_config(), cascade_env(fake, {"openai"}, {"openai"},
                                                {{"LLM_MODEL_OPENAI", "gpt-4o,gpt-4o-mini"}}));
  fake.script_for_key("sk-openai-1", long_429());
  for (int i = 0; i < 4; ++i) fake.script_for_key("sk-openai-2", error_reply(wire_format::openai, 500));

  auto r = gw.chat(user_message("auto"));
  INFO("answer: " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r.header("x-gateway-model") == "gpt-4o-mini");
  CHECK(r.header("x-gateway-attempts") == "6");
  auto got = fake.received();
  REQUIRE(got.size() == 6);
  CHECK(got[0].api_key == "sk-openai-1");  // 429: rotate
  for (int i = 1; i < 5; ++i) {             // 500 and its 3 retries, same target
    CHECK(got[i].api_key == "sk-openai-2");
    CHECK(json::parse(got[i].body)["model"] == "gpt-4o");
  }
  CHECK(json::parse(got[5].body)["model"] == "gpt-4o-mini");
}

TEST_CASE("/metrics: upstream attempts by outcome and the key state gauge", "[cascade][keys][metrics]") {
  fake_provider fake;
  running_gateway gw(fast_config(), cascade_env(fake, {"openai"}, {"openai"}));
  auto short_429 = error_reply(wire_format::openai, 429);
  short_429.headers.emplace_back("x-ratelimit-reset-requests", "300ms");
  fake.script_for_key("sk-openai-1", short_429);
  fake.script_for_key("sk-openai-2", error_reply(wire_format::openai, 500));

  REQUIRE(gw.chat(user_message("auto")).status == 200);
  auto m = metrics_text(gw);
  const std::string name = "switchboard_upstream_attempts_total";
  CHECK(metric(m, name, {{"provider", "openai"}, {"key_id", "openai#1"}, {"outcome", "rate_limited"}}) == 1);
  CHECK(metric(m, name, {{"provider", "openai"}, {"key_id", "openai#2"}, {"outcome", "server_error"}}) == 1);
  CHECK(metric(m, name, {{"provider", "openai"}, {"outcome", "ok"}}) == 1);
  CHECK(metric(m, "switchboard_key_state", {{"key_id", "openai#1"}, {"state", "cooling"}}) == 1);
  CHECK(metric(m, "switchboard_key_state", {{"key_id", "openai#1"}, {"state", "ready"}}) == 0);
  CHECK(metric(m, "switchboard_key_state", {{"key_id", "openai#2"}, {"state", "ready"}}) == 1);

  // A cooldown that ends with no request to notice it still shows on the gauge.
  std::this_thread::sleep_for(500ms);
  m = metrics_text(gw);
  CHECK(metric(m, "switchboard_key_state", {{"key_id", "openai#1"}, {"state", "ready"}}) == 1);
  CHECK(metric(m, "switchboard_key_state", {{"key_id", "openai#1"}, {"state", "cooling"}}) == 0);
}
