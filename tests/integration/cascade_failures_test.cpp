// SPEC section 5's table, continued: credential failures, unavailable
// targets, the client's own errors, every target failing, and a stream that
// fails after its content reached the client.

#include <chrono>
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

// --- 401, 403, Gemini API_KEY_INVALID -------------------------------------------

namespace {

struct auth_row {
  const char* name;
  std::string provider;
  wire_format format;
  int status;
  const char* code;
};

const std::vector<auth_row>& auth_rows() {
  static const std::vector<auth_row> rows = {
      {"openai 401", "openai", wire_format::openai, 401, ""},
      {"openai 403", "openai", wire_format::openai, 403, ""},
      {"anthropic 401", "anthropic", wire_format::anthropic, 401, ""},
      {"anthropic 403", "anthropic", wire_format::anthropic, 403, ""},
      {"gemini 400 API_KEY_INVALID", "google", wire_format::gemini, 400, "API_KEY_INVALID"},
      {"gemini 403", "google", wire_format::gemini, 403, ""},
  };
  return rows;
}

}  // namespace

TEST_CASE("401/403/API_KEY_INVALID: never retried - the key invalid and logged - the next key", "[cascade][auth]") {
  for (auto& row : auth_rows()) {
    INFO(row.name);
    const auto secret = "sk-" + row.provider + "-1";
    const auto key_id = row.provider + "#1";
    fake_provider fake;
    running_gateway gw(fast_config(), cascade_env(fake, {row.provider, "deepseek"}, {row.provider}));
    fake.script_for_key(secret, error_reply(row.format, row.status, row.code));
    fake.script_for_key(secret, error_reply(row.format, row.status, row.code));
    stderr_capture log;

    auto r = gw.chat(user_message("auto"));
    INFO("answer: " << r.body);
    REQUIRE(r.status == 200);
    CHECK(r.header("x-gateway-provider") == row.provider);
    CHECK(attempts_of(r) == 2);
    auto again = gw.chat(user_message("auto"));
    INFO("answer: " << again.body);
    REQUIRE(again.status == 200);
    CHECK(attempts_of(again) == 1);  // the invalid key is not handed out again
    CHECK(sent_with_key(fake, secret).size() == 1);

    auto keys = admin_keys(gw);
    CHECK(keys[key_id]["state"] == "invalid");
    CHECK(keys[key_id]["last_status"] == row.status);
    CHECK(keys[row.provider + "#2"]["state"] == "ready");
    auto m = metrics_text(gw);
    CHECK(metric(m, "switchboard_credential_errors_total", {{"provider", row.provider}, {"key_id", key_id}}) == 1);
    CHECK(metric(m, "switchboard_key_state", {{"key_id", key_id}, {"state", "invalid"}}) == 1);

    auto text = log.text();
    INFO("log: " << text);
    auto line_at = text.find(" ERROR ");
    REQUIRE(line_at != std::string::npos);
    auto line = text.substr(line_at, text.find('\n', line_at) - line_at);
    CHECK(line.find(key_id) != std::string::npos);
    CHECK(text.find(secret) == std::string::npos);  // the secret is never logged
  }
}

TEST_CASE("401/403/API_KEY_INVALID with no other key: the next provider", "[cascade][auth]") {
  for (auto& row : auth_rows()) {
    INFO(row.name);
    const auto secret = "sk-" + row.provider + "-1";
    fake_provider fake;
    running_gateway gw(fast_config(), cascade_env(fake, {row.provider, "deepseek"}));
    fake.script_for_key(secret, error_reply(row.format, row.status, row.code));

    auto r = gw.chat(user_message("auto"));
    INFO("answer: " << r.body);
    REQUIRE(r.status == 200);
    CHECK(r.header("x-gateway-provider") == "deepseek");
    CHECK(attempts_of(r) == 2);
    CHECK(sent_with_key(fake, secret).size() == 1);
    CHECK(admin_keys(gw)[row.provider + "#1"]["state"] == "invalid");
  }
}

// --- 404 model not found, context length exceeded ---------------------------------

TEST_CASE("404 model not found and context length exceeded: the next target", "[cascade][target]") {
  struct row {
    const char* name;
    std::string provider;
    wire_format format;
    int status;
    const char* code;
  };
  const std::vector<row> rows = {
      {"openai 404", "openai", wire_format::openai, 404, ""},
      {"openai context_length_exceeded", "openai", wire_format::openai, 400, "context_length_exceeded"},
      {"anthropic 404", "anthropic", wire_format::anthropic, 404, ""},
      {"anthropic prompt is too long", "anthropic", wire_format::anthropic, 400, "context_length_exceeded"},
      {"gemini 404", "google", wire_format::gemini, 404, ""},
      {"gemini token count exceeds the maximum", "google", wire_format::gemini, 400, "context_length_exceeded"},
  };
  for (auto& row : rows) {
    INFO(row.name);
    fake_provider fake;
    running_gateway gw(fast_config(), cascade_env(fake, {row.provider, "deepseek"}, {},
                                                  {{"LLM_MODEL_" + upper(row.provider), "model-a,model-b"}}));
    fake.script(error_reply(row.format, row.status, row.code));

    auto r = gw.chat(user_message("auto"));
    INFO("answer: " << r.body);
    REQUIRE(r.status == 200);
    CHECK(r.header("x-gateway-provider") == row.provider);
    CHECK(r.header("x-gateway-model") == "model-b");
    CHECK(attempts_of(r) == 2);
    auto got = fake.received();
    REQUIRE(got.size() == 2);
    CHECK(model_of(got[0]) == "model-a");
    CHECK(model_of(got[1]) == "model-b");
    CHECK(admin_keys(gw)[row.provider + "#1"]["state"] == "ready");  // the key did nothing wrong
  }
}

// --- other 4xx ------------------------------------------------------------------

TEST_CASE("other 4xx: the request is wrong - returned at once with the provider's message", "[cascade][4xx]") {
  struct row {
    const char* name;
    std::string provider;
    wire_format format;
    int status;
  };
  const std::vector<row> rows = {
      {"openai 400 invalid_request_error", "openai", wire_format::openai, 400},
      {"anthropic 400 invalid_request_error", "anthropic", wire_format::anthropic, 400},
      {"anthropic 413 request_too_large", "anthropic", wire_format::anthropic, 413},
      {"gemini 400 INVALID_ARGUMENT", "google", wire_format::gemini, 400},
  };
  for (auto& row : rows) {
    INFO(row.name);
    fake_provider fake;
    running_gateway gw(fast_config(), cascade_env(fake, {row.provider, "deepseek"}, {row.provider},
                                                  {{"LLM_MODEL_" + upper(row.provider), "model-a,model-b"}}));
    fake.script(error_reply(row.format, row.status));

    auto r = gw.chat(user_message("auto"));
    CHECK(r.status == row.status);
    CHECK(attempts_of(r) == 1);
    auto e = json::parse(r.body)["error"];
    CHECK(e["type"] == "invalid_request_error");
    CHECK(e["message"] == provider_message(row.format, row.status));
    CHECK(fake.received().size() == 1);  // no other key, model or provider tried
  }
}

// --- every target failed ------------------------------------------------------------

TEST_CASE("every target failed: 502 all_providers_failed with the attempts", "[cascade][all]") {
  fake_provider fake;
  running_gateway gw(fast_config(), cascade_env(fake, {"openai", "deepseek"}));
  fake.script_for_key("sk-openai-1", error_reply(wire_format::openai, 404));
  fake.script_for_key("sk-deepseek-1", error_reply(wire_format::openai, 400, "context_length_exceeded"));

  auto r = gw.chat(user_message("auto"));
  REQUIRE(r.status == 502);
  CHECK(attempts_of(r) == 2);
  CHECK(r.header("x-gateway-provider").empty());  // nobody answered
  auto e = json::parse(r.body)["error"];
  CHECK(e["code"] == "all_providers_failed");
  CHECK(e["type"] == "server_error");
  CHECK(!e["message"].get<std::string>().empty());
  json expected = json::array(
      {{{"provider", "openai"}, {"model", "gpt-4o-mini"}, {"key_id", "openai#1"}, {"status", 404},
        {"error", provider_message(wire_format::openai, 404)}},
       {{"provider", "deepseek"}, {"model", "deepseek-chat"}, {"key_id", "deepseek#1"}, {"status", 400},
        {"error", provider_message(wire_format::openai, 400, "context_length_exceeded")}}});
  CHECK(e["attempts"] == expected);
}

// --- streams: no retry once content reached the client ------------------------------

TEST_CASE("a stream that fails after content is not retried: it ends with an SSE error event", "[cascade][stream]") {
  for (auto provider : {"openai", "anthropic", "google"}) {
    INFO(provider);
    const std::string text = "alpha beta gamma delta epsilon zeta eta theta";
    fake_provider fake;
    running_gateway gw(fast_config(), cascade_env(fake, {provider, "deepseek"}, {provider},
                                                  {{"LLM_MODEL_" + upper(provider), "model-a,model-b"}}));
    scripted_reply cut;
    cut.text = text;
    cut.chunks = 8;
    cut.reset_after_chunks = 3;
    fake.script(cut);

    auto body = user_message("auto");
    body["stream"] = true;
    auto r = gw.chat(body);
    INFO("answer: " << r.body);
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type") == "text/event-stream");
    CHECK(attempts_of(r) == 1);
    auto got_text = streamed_text(r.body.substr(0, r.body.find("event: error")));
    CHECK(got_text == "alpha beta gamma");  // the three chunks sent before the reset
    auto err_at = r.body.find("event: error\n");
    REQUIRE(err_at != std::string::npos);
    auto data = sse_data(r.body.substr(err_at));
    REQUIRE(data.size() == 1);
    CHECK(json::parse(data[0])["error"]["message"].is_string());
    CHECK(r.body.find("[DONE]") == std::string::npos);
    CHECK(fake.received().size() == 1);  // no retry: it would repeat the text
    // The usage reported so far is metered: Anthropic tells the prompt's
    // tokens in message_start, before any content.
    if (std::string(provider) == "anthropic")
      CHECK(metric(metrics_text(gw), "switchboard_tokens_total", {{"provider", "anthropic"}, {"kind", "prompt"}}) > 0);
  }
}
