// SPEC section 5's table, one test per row, over real sockets: client ->
// gateway -> fake providers speaking each wire format. Every test counts the
// upstream requests the fake received, so a retry too many or too few fails.
// Here: 429, out of credit, 5xx/network/timeouts. The other rows are in
// cascade_failures_test.cpp, the key pool under pressure in cascade_keys_test.cpp.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "tests/integration/cascade_helpers.hpp"

using namespace sb::testing;
using nlohmann::json;
using sb::fakes::error_reply;
using sb::fakes::fake_provider;
using sb::fakes::scripted_reply;
using sb::fakes::wire_format;
using namespace std::chrono_literals;


// --- 429 --------------------------------------------------------------------

TEST_CASE("429: the key cools down and the request moves at once to the next ready key", "[cascade][429]") {
  fake_provider fake;
  running_gateway gw(fast_config(), cascade_env(fake, {"openai"}, {"openai"}));
  fake.script_for_key("sk-openai-1", with_headers(error_reply(wire_format::openai, 429), {{"retry-after", "30"}}));

  auto r = gw.chat(user_message("auto"));
  INFO("answer: " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r.header("x-gateway-provider") == "openai");
  CHECK(attempts_of(r) == 2);
  auto got = fake.received();
  REQUIRE(got.size() == 2);
  CHECK(got[0].api_key == "sk-openai-1");
  CHECK(got[1].api_key == "sk-openai-2");
  CHECK(gap(got[0], got[1]) < 100ms);  // at once: no backoff before another ready key

  auto keys = admin_keys(gw);
  CHECK(keys["openai#1"]["state"] == "cooling");
  CHECK(keys["openai#1"]["last_status"] == 429);
  REQUIRE(keys["openai#1"]["cooldown_until"].is_string());
  auto left = seconds_until(keys["openai#1"]["cooldown_until"]);
  CHECK(left > 27);
  CHECK(left <= 31);
  CHECK(keys["openai#2"]["state"] == "ready");
  CHECK(keys["openai#2"]["cooldown_until"].is_null());
  CHECK(keys["openai#2"]["last_status"] == 200);
}

TEST_CASE("429: the cooldown lasts as long as the headers say - the latest time winning", "[cascade][429]") {
  struct row {
    const char* name;
    std::string provider;
    wire_format format;
    // Built when the row runs: an absolute reset time made up front would
    // be stale by the seconds the rows before it took.
    std::function<header_list()> headers;
    double seconds;
  };
  const std::vector<row> rows = {
      {"retry-after", "openai", wire_format::openai, [] { return header_list{{"retry-after", "30"}}; }, 30},
      {"x-ratelimit-reset-requests", "openai", wire_format::openai,
       [] { return header_list{{"x-ratelimit-reset-requests", "45s"}}; }, 45},
      {"anthropic-ratelimit-requests-reset", "anthropic", wire_format::anthropic,
       [] { return header_list{{"anthropic-ratelimit-requests-reset", rfc3339_in(60s)}}; }, 60},
      {"reset-requests later than retry-after", "openai", wire_format::openai,
       [] { return header_list{{"retry-after", "20"}, {"x-ratelimit-reset-requests", "1m30s"}}; }, 90},
      {"anthropic reset later than retry-after", "anthropic", wire_format::anthropic,
       [] { return header_list{{"retry-after", "10"}, {"anthropic-ratelimit-requests-reset", rfc3339_in(75s)}}; }, 75},
      {"retry-after later than anthropic reset", "anthropic", wire_format::anthropic,
       [] { return header_list{{"anthropic-ratelimit-requests-reset", rfc3339_in(50s)}, {"retry-after", "70"}}; }, 70},
      // No header: backoff_base_ms * 2^0 for the first 429.
      {"no header: backoff_base", "openai", wire_format::openai, [] { return header_list{}; }, 20},
  };
  for (auto& row : rows) {
    INFO(row.name);
    fake_provider fake;
    auto cfg = fast_config({{"retry", {{"backoff_base_ms", 20000}, {"backoff_max_ms", 60000}}}});
    running_gateway gw(cfg, cascade_env(fake, {row.provider}, {row.provider}));
    fake.script_for_key("sk-" + row.provider + "-1", with_headers(error_reply(row.format, 429), row.headers()));

    auto r = gw.chat(user_message("auto"));
    INFO("answer: " << r.body);
    REQUIRE(r.status == 200);
    CHECK(attempts_of(r) == 2);
    auto key = admin_keys(gw)[row.provider + "#1"];
    CHECK(key["state"] == "cooling");
    CHECK(key["last_status"] == 429);
    REQUIRE(key["cooldown_until"].is_string());
    auto left = seconds_until(key["cooldown_until"]);
    CHECK(left > row.seconds - 3);
    CHECK(left <= row.seconds + 1);
  }
}

TEST_CASE("429 without headers: the cooldown doubles with each consecutive 429 on the key", "[cascade][429]") {
  fake_provider fake;
  auto cfg = fast_config({{"retry", {{"backoff_base_ms", 100}, {"backoff_max_ms", 1000}, {"max_wait_for_key_ms", 2000}}}});
  running_gateway gw(cfg, cascade_env(fake, {"openai"}));
  fake.script(error_reply(wire_format::openai, 429));
  fake.script(error_reply(wire_format::openai, 429));

  auto r = gw.chat(user_message("auto"));
  INFO("answer: " << r.body);
  REQUIRE(r.status == 200);
  CHECK(attempts_of(r) == 3);
  auto got = fake.received();
  REQUIRE(got.size() == 3);
  CHECK(gap(got[0], got[1]) >= 100ms);  // base * 2^0
  CHECK(gap(got[1], got[2]) >= 200ms);  // base * 2^1
  CHECK(gap(got[1], got[2]) < 900ms);
}

TEST_CASE("429 with no key ready: wait when the soonest is ready within max_wait_for_key_ms", "[cascade][429]") {
  fake_provider fake;
  // max_wait_for_key_ms is 300 in fast_config; the key is ready again in 150 ms.
  running_gateway gw(fast_config(), cascade_env(fake, {"openai", "deepseek"}));
  fake.script_for_key("sk-openai-1", with_headers(error_reply(wire_format::openai, 429),
                                                  {{"x-ratelimit-reset-requests", "150ms"}}));

  auto r = gw.chat(user_message("auto"));
  INFO("answer: " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r.header("x-gateway-provider") == "openai");  // waited instead of falling through
  CHECK(attempts_of(r) == 2);
  auto got = fake.received();
  REQUIRE(got.size() == 2);
  CHECK(got[0].api_key == "sk-openai-1");
  CHECK(got[1].api_key == "sk-openai-1");
  CHECK(gap(got[0], got[1]) >= 145ms);
}

TEST_CASE("429 with no key ready soon enough: the next provider - at once", "[cascade][429]") {
  fake_provider fake;
  auto cfg = fast_config({{"retry", {{"max_wait_for_key_ms", 2000}}}});
  running_gateway gw(cfg, cascade_env(fake, {"openai", "deepseek"}, {},
                                      {{"LLM_MODEL_OPENAI", "gpt-4o,gpt-4o-mini"}}));
  fake.script_for_key("sk-openai-1", with_headers(error_reply(wire_format::openai, 429), {{"retry-after", "5"}}));

  auto start = std::chrono::steady_clock::now();
  auto r = gw.chat(user_message("auto"));
  auto took = std::chrono::steady_clock::now() - start;
  INFO("answer: " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r.header("x-gateway-provider") == "deepseek");
  CHECK(attempts_of(r) == 2);
  CHECK(took < 1000ms);  // no waiting for a key that is ready only in 5 s
  // The next provider, not openai's next model: its only key is cooling.
  CHECK(sent_with_key(fake, "sk-openai-1").size() == 1);
  CHECK(admin_keys(gw)["openai#1"]["state"] == "cooling");
}

// --- 402 and insufficient_quota ----------------------------------------------

TEST_CASE("402 and 429 insufficient_quota: the provider is skipped for quota_skip_s", "[cascade][402]") {
  struct row {
    const char* name;
    std::string provider;
    wire_format format;
    int status;
    const char* code;
  };
  const std::vector<row> rows = {
      {"402 (OpenRouter's credits)", "openrouter", wire_format::openai, 402, ""},
      {"429 insufficient_quota", "openai", wire_format::openai, 429, "insufficient_quota"},
      {"anthropic 402 billing_error", "anthropic", wire_format::anthropic, 402, ""},
  };
  for (auto& row : rows) {
    INFO(row.name);
    fake_provider fake;
    // Two keys and two models: out of credit skips them all.
    auto env = cascade_env(fake, {row.provider, "deepseek"}, {row.provider},
                           {{"LLM_MODEL_" + upper(row.provider), "model-a,model-b"}});
    running_gateway gw(fast_config(), env);
    fake.script_for_key("sk-" + row.provider + "-1", error_reply(row.format, row.status, row.code));

    auto first = gw.chat(user_message("auto"));
    INFO("answer: " << first.body);
    REQUIRE(first.status == 200);
    CHECK(first.header("x-gateway-provider") == "deepseek");
    CHECK(attempts_of(first) == 2);
    auto second = gw.chat(user_message("auto"));
    INFO("answer: " << second.body);
    REQUIRE(second.status == 200);
    CHECK(second.header("x-gateway-provider") == "deepseek");
    CHECK(attempts_of(second) == 1);

    CHECK(sent_with_key(fake, "sk-" + row.provider + "-1").size() == 1);
    CHECK(sent_with_key(fake, "sk-" + row.provider + "-2").empty());
    CHECK(fake.received().size() == 3);
    auto keys = admin_keys(gw);
    CHECK(keys[row.provider + "#1"]["state"] == "quota_exhausted");
    CHECK(keys[row.provider + "#2"]["state"] == "quota_exhausted");
    CHECK(keys[row.provider + "#1"]["last_status"] == row.status);
    CHECK(keys["deepseek#1"]["state"] == "ready");
    CHECK(metric(metrics_text(gw), "switchboard_key_state",
                 {{"provider", row.provider}, {"key_id", row.provider + "#2"}, {"state", "quota_exhausted"}}) == 1);
  }
}

// --- 5xx, connection errors, timeouts -----------------------------------------

TEST_CASE("5xx - connection reset and first-byte timeout: 3 retries with backoff - then the next target",
          "[cascade][5xx]") {
  struct row {
    const char* name;
    std::string provider;
    scripted_reply reply;
    bool stream = false;
  };
  scripted_reply reset;
  reset.reset_after_chunks = 0;
  scripted_reply hang;
  hang.hang = true;
  const std::vector<row> rows = {
      {"500", "openai", error_reply(wire_format::openai, 500)},
      {"502", "openai", error_reply(wire_format::openai, 502)},
      {"503", "openai", error_reply(wire_format::openai, 503)},
      {"504", "openai", error_reply(wire_format::openai, 504)},
      {"anthropic 500", "anthropic", error_reply(wire_format::anthropic, 500)},
      {"anthropic 529 overloaded", "anthropic", error_reply(wire_format::anthropic, 529)},
      {"gemini 503", "google", error_reply(wire_format::gemini, 503)},
      {"connection reset", "openai", reset},
      {"connection reset before any streamed content", "openai", reset, true},
      {"first-byte timeout", "openai", hang},
      {"first-byte timeout on a stream", "anthropic", hang, true},
  };
  for (auto& row : rows) {
    INFO(row.name);
    fake_provider fake;
    auto cfg = fast_config({{"retry", {{"backoff_base_ms", 40}, {"backoff_max_ms", 1000}}},
                            {"timeouts", {{"first_byte_ms", 150}}}});
    running_gateway gw(cfg, cascade_env(fake, {row.provider}, {},
                                        {{"LLM_MODEL_" + upper(row.provider), "model-a,model-b"}}));
    for (int i = 0; i < 4; ++i) fake.script(row.reply);

    auto body = user_message("auto");
    body["stream"] = row.stream;
    auto r = gw.chat(body);
    INFO("answer: " << r.body);
    REQUIRE(r.status == 200);
    CHECK(r.header("x-gateway-model") == "model-b");
    CHECK(attempts_of(r) == 5);
    if (row.stream) CHECK(!streamed_text(r.body).empty());
    auto got = fake.received();
    REQUIRE(got.size() == 5);
    for (int i = 0; i < 4; ++i) CHECK(model_of(got[i]) == "model-a");  // the first try and 3 retries
    CHECK(model_of(got[4]) == "model-b");
    // Exponential backoff with jitter: retry n waits at least half of base * 2^n.
    for (int i = 0; i < 3; ++i) CHECK(gap(got[i], got[i + 1]) >= std::chrono::milliseconds(20 << i));
  }
}
