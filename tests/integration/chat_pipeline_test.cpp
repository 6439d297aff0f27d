// The spine end to end: client socket -> Beast -> session actor -> provider
// and key actors -> upstream client -> fake OpenAI -> back, whole and streamed.

#include <chrono>
#include <thread>

#include "tests/integration/gateway_fixture.hpp"

using namespace sb::testing;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("a non-streamed completion goes through the whole pipeline", "[pipeline]") {
  sb::fakes::fake_options fo;
  fo.text = "Four score and seven years ago";
  sb::fakes::fake_provider fake(fo);
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}, {{"LLM_MODEL_OPENAI", "gpt-4o-mini"}}));

  auto body = user_message("auto");
  body["user"] = "user-42";
  body["max_tokens"] = 50;
  body["temperature"] = 0.5;
  auto r = gw.chat(body);
  REQUIRE(r.status == 200);
  auto j = json::parse(r.body);
  CHECK(j["object"] == "chat.completion");
  CHECK(j["choices"][0]["message"]["content"] == "Four score and seven years ago");
  CHECK(j["choices"][0]["finish_reason"] == "stop");
  CHECK(j["usage"]["completion_tokens"].get<int>() > 0);
  CHECK(r.header("content-type") == "application/json");
  CHECK(r.header("x-gateway-provider") == "openai");
  CHECK(r.header("x-gateway-model") == "gpt-4o-mini");
  CHECK(r.header("x-gateway-attempts") == "1");
  CHECK(r.header("x-request-id").rfind("req_", 0) == 0);

  auto received = fake.received();
  REQUIRE(received.size() == 1);
  CHECK(received[0].target == "/v1/chat/completions");
  CHECK(received[0].header("authorization") == "Bearer sk-openai-1");
  auto sent = json::parse(received[0].body);
  CHECK(sent["model"] == "gpt-4o-mini");
  CHECK(sent["max_tokens"] == 50);
  CHECK(sent["temperature"] == 0.5);
  CHECK(sent["user"] == "user-42");
}

TEST_CASE("a streamed completion is relayed chunk by chunk as it arrives", "[pipeline][stream]") {
  sb::fakes::fake_options fo;
  fo.text = "one two three four five six";
  fo.chunks = 6;
  sb::fakes::fake_provider fake(fo);
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}, {{"LLM_MODEL_OPENAI", "gpt-4o-mini"}}));

  sb::fakes::scripted_reply slow;
  slow.chunk_delay = 150ms;  // six chunks: the whole answer takes ~900 ms
  fake.script(slow);

  auto body = user_message("openai/gpt-4o-mini");
  body["stream"] = true;
  http_connection c(gw.port());
  auto sent_at = std::chrono::steady_clock::now();
  c.send_request("POST", "/v1/chat/completions", body.dump());
  auto head = c.read_head();
  REQUIRE(head.status == 200);
  CHECK(head.header("content-type") == "text/event-stream");
  CHECK(head.header("x-gateway-provider") == "openai");
  CHECK(head.header("transfer-encoding") == "chunked");

  std::string all;
  auto first = c.read_chunk();
  auto first_at = std::chrono::steady_clock::now();
  // Never buffered whole: the first content reaches us long before the last
  // upstream chunk has even been sent.
  CHECK(first_at - sent_at < 600ms);
  all += first;
  for (auto piece = c.read_chunk(); !piece.empty(); piece = c.read_chunk()) all += piece;

  CHECK(streamed_text(all) == "one two three four five six");
  auto data = sse_data(all);
  REQUIRE(!data.empty());
  CHECK(data.back() == "[DONE]");
  // Every event carries id: <message_id>:<seq>, seq counting from 1 (the
  // stream journal's numbering: a Last-Event-ID of 0 means "from the start").
  CHECK(all.find("id: msg_") != std::string::npos);
  CHECK(all.find(":1\ndata: ") != std::string::npos);
  CHECK(all.find(":0\ndata: ") == std::string::npos);
  // No usage chunk unless the client asked.
  for (auto& d : data) {
    if (d == "[DONE]") continue;
    auto chunk = json::parse(d);
    CHECK((!chunk.contains("usage") || chunk["usage"].is_null()));
  }
}

TEST_CASE("stream_options.include_usage yields a usage chunk", "[pipeline][stream]") {
  sb::fakes::fake_provider fake;
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}));
  auto body = user_message("auto");
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  auto r = gw.chat(body);
  REQUIRE(r.status == 200);
  bool saw_usage = false;
  for (auto& d : sse_data(r.body)) {
    if (d == "[DONE]") continue;
    auto j = json::parse(d);
    if (j.contains("usage") && j["usage"].is_object()) {
      saw_usage = true;
      CHECK(j["choices"].empty());
      CHECK(j["usage"]["completion_tokens"].get<int>() > 0);
    }
  }
  CHECK(saw_usage);
}

TEST_CASE("model selection follows SPEC section 4", "[pipeline][models]") {
  sb::fakes::fake_provider fake;
  auto env = fake_env(fake.base_url(), {"openai", "deepseek"},
                      {{"LLM_MODEL_OPENAI", "gpt-4o,gpt-4o-mini"}, {"LLM_MODEL_DEEPSEEK", "deepseek-chat"}});
  running_gateway gw(fast_config({{"aliases", {{"fast", {"deepseek/deepseek-chat", "openai/gpt-4o-mini"}}}}}), env);

  auto model_of = [&](const json& body, std::vector<std::pair<std::string, std::string>> h = {}) {
    auto r = gw.chat(body, h);
    return std::make_pair(r.status, r.header("x-gateway-provider") + "/" + r.header("x-gateway-model"));
  };
  CHECK(model_of(user_message("auto")) == std::make_pair(200, std::string("openai/gpt-4o")));
  CHECK(model_of(user_message("deepseek/deepseek-chat")) == std::make_pair(200, std::string("deepseek/deepseek-chat")));
  CHECK(model_of(user_message("fast")) == std::make_pair(200, std::string("deepseek/deepseek-chat")));
  CHECK(model_of(user_message("gpt-4o-mini")) == std::make_pair(200, std::string("openai/gpt-4o-mini")));

  auto unknown = gw.chat(user_message("gpt-7-ultra"));
  CHECK(unknown.status == 400);
  auto e = json::parse(unknown.body)["error"];
  CHECK(e["code"] == "model_not_found");
  CHECK(e["type"] == "invalid_request_error");
  CHECK(e["param"] == "model");

  // provider/model falls back to the rest of the cascade when that target
  // fails, unless X-Gateway-Fallback: none.
  fake.script(sb::fakes::error_reply(sb::fakes::wire_format::openai, 404));
  CHECK(model_of(user_message("openai/gpt-4o-mini")) == std::make_pair(200, std::string("openai/gpt-4o")));
  fake.script(sb::fakes::error_reply(sb::fakes::wire_format::openai, 404));
  auto none = gw.chat(user_message("openai/gpt-4o-mini"), {{"X-Gateway-Fallback", "none"}});
  CHECK(none.status == 502);
  CHECK(json::parse(none.body)["error"]["code"] == "all_providers_failed");

  auto models = http_request(gw.port(), "GET", "/v1/models");
  REQUIRE(models.status == 200);
  auto list = json::parse(models.body);
  CHECK(list["object"] == "list");
  std::vector<std::string> ids;
  for (auto& m : list["data"]) ids.push_back(m["id"]);
  CHECK(ids == std::vector<std::string>{"openai/gpt-4o", "openai/gpt-4o-mini", "deepseek/deepseek-chat"});
  CHECK(list["data"][2]["owned_by"] == "deepseek");
}

TEST_CASE("clients authenticate by the sha256 of their bearer token", "[pipeline][auth]") {
  sb::fakes::fake_provider fake;
  auto cfg = fast_config({{"workspaces",
                           {{{"id", "acme"}, {"api_key_sha256", {sha256_of("acme-secret-token")}}}}}});
  running_gateway gw(cfg, fake_env(fake.base_url(), {"openai"}));

  CHECK(gw.chat(user_message("auto")).status == 401);
  auto wrong = gw.chat(user_message("auto"), {{"Authorization", "Bearer nope-nope-nope"}});
  CHECK(wrong.status == 401);
  CHECK(json::parse(wrong.body)["error"]["code"] == "invalid_api_key");
  CHECK(gw.chat(user_message("auto"), {{"Authorization", "Bearer acme-secret-token"}}).status == 200);
  CHECK(http_request(gw.port(), "GET", "/v1/models").status == 401);
}

TEST_CASE("bad input gets OpenAI's envelope and the server keeps serving", "[pipeline][errors]") {
  sb::fakes::fake_provider fake;
  running_gateway gw(fast_config({{"limits", {{"max_body_bytes", 4096}}}}), fake_env(fake.base_url(), {"openai"}));

  auto bad_json = http_request(gw.port(), "POST", "/v1/chat/completions", "{\"model\": ");
  CHECK(bad_json.status == 400);
  CHECK(json::parse(bad_json.body)["error"]["code"] == "invalid_json");

  auto no_messages = gw.chat({{"model", "auto"}});
  CHECK(no_messages.status == 400);
  CHECK(json::parse(no_messages.body)["error"]["param"] == "messages");

  auto bad_role = gw.chat({{"model", "auto"}, {"messages", {{{"role", "wizard"}, {"content", "x"}}}}});
  CHECK(bad_role.status == 400);
  CHECK(json::parse(bad_role.body)["error"]["param"] == "messages[0].role");

  auto too_big = gw.chat(user_message("auto", std::string(8000, 'x')));
  CHECK(too_big.status == 413);
  CHECK(json::parse(too_big.body)["error"]["type"] == "invalid_request_error");

  auto unknown = http_request(gw.port(), "GET", "/v2/nothing");
  CHECK(unknown.status == 404);
  CHECK(json::parse(unknown.body)["error"]["code"] == "unknown_route");

  auto wrong_method = http_request(gw.port(), "GET", "/v1/chat/completions");
  CHECK(wrong_method.status == 405);
  CHECK(json::parse(wrong_method.body).contains("error"));

  CHECK(fake.request_count() == 0);  // none of it cost an upstream call
  CHECK(gw.chat(user_message("auto")).status == 200);
  CHECK(http_request(gw.port(), "GET", "/healthz").status == 200);
  CHECK(http_request(gw.port(), "GET", "/readyz").status == 200);
}

TEST_CASE("a body the scan cannot take is still judged as the tree judges it", "[pipeline][errors]") {
  sb::fakes::fake_provider fake;
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}));
  auto post = [&](const std::string& body) { return http_request(gw.port(), "POST", "/v1/chat/completions", body); };

  // Invalid UTF-8 in a string: not JSON, as nlohmann says.
  auto bad_utf8 = post("{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"\xC3\x28\"}]}");
  CHECK(bad_utf8.status == 400);
  CHECK(json::parse(bad_utf8.body)["error"]["code"] == "invalid_json");

  auto bad_usage = gw.chat({{"model", "auto"}, {"messages", {{{"role", "user"}, {"content", "x"}}}},
                            {"stream", true}, {"stream_options", {{"include_usage", "yes"}}}});
  CHECK(bad_usage.status == 400);
  CHECK(json::parse(bad_usage.body)["error"]["param"] == "stream_options.include_usage");

  auto repeated = post(R"({"model":"auto","messages":[{"role":"user","content":"x"}],"messages":[]})");
  CHECK(repeated.status == 400);  // the tree keeps the last `messages`: empty
  CHECK(json::parse(repeated.body)["error"]["param"] == "messages");
  CHECK(fake.request_count() == 0);

  // null is "not given" for stream and stream_options: a whole answer.
  auto nulls = post(R"({"model":"auto","messages":[{"role":"user","content":"x"}],"stream":null,"stream_options":null})");
  CHECK(nulls.status == 200);
  CHECK(json::parse(nulls.body)["object"] == "chat.completion");
  // The same through the tree path (a prompt-free request with tools: null is still plain;
  // `tools: []` is not).
  auto tree_nulls = post(R"({"model":"auto","messages":[{"role":"user","content":"x"}],"stream":null,"tools":[]})");
  CHECK(tree_nulls.status == 200);
  CHECK(json::parse(tree_nulls.body)["object"] == "chat.completion");
}

TEST_CASE("without provider keys chat answers 503 no_providers_configured", "[pipeline][errors]") {
  running_gateway gw(fast_config(), {});
  auto r = gw.chat(user_message("auto"));
  CHECK(r.status == 503);
  auto e = json::parse(r.body)["error"];
  CHECK(e["code"] == "no_providers_configured");
  CHECK(e["message"].get<std::string>().find("OPENAI_API_KEY") != std::string::npos);
}

TEST_CASE("keep-alive: many requests on one client connection", "[pipeline]") {
  sb::fakes::fake_provider fake;
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}));
  http_connection c(gw.port());
  for (int i = 0; i < 20; ++i) REQUIRE(c.request("POST", "/v1/chat/completions", user_message("auto").dump()).status == 200);
  // ... and upstream the gateway reuses its pooled connections.
  CHECK(fake.connections_accepted() < 5);
}

TEST_CASE("with CAF's own scheduler threads instead of the I/O threads the pipeline still answers", "[pipeline]") {
  // gateway_options::actors_on_io_threads = false is the documented way back
  // to CAF's pool (ADR-0001): keep it working, whole and streamed.
  sb::fakes::fake_options fo;
  fo.text = "on the actor pool";
  fo.chunks = 3;
  sb::fakes::fake_provider fake(fo);
  sb::gateway_options opts;
  opts.actors_on_io_threads = false;
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}, {{"LLM_MODEL_OPENAI", "gpt-4o-mini"}}),
                     opts);
  check_whole_and_streamed(gw, "openai/gpt-4o-mini", "on the actor pool");
}
