// SPEC 9 / ADR-0013: the gateway's tool loop through the whole gateway, the
// model a fake OpenAI provider scripted per round, the tools a fake endpoint
// that records every call.

#include <thread>

#include "tests/integration/tool_loop_fixture.hpp"

TEST_CASE("tool loop: a valid call reaches the endpoint once and the final answer comes back") {
  loop_setup s;
  s.fake.script(calls("lookup_order", R"({"order_id":"o-42"})"));
  s.fake.script(says("Your order has shipped."));
  auto r = s.ask({"lookup_order"});
  REQUIRE(r.status == 200);
  auto j = json::parse(r.body);
  CHECK(j["choices"][0]["message"]["content"] == "Your order has shipped.");
  CHECK(j["choices"][0]["finish_reason"] == "stop");
  CHECK(j["gateway"]["tool_rounds"] == 2);
  REQUIRE(s.tools.call_count() == 1);
  CHECK(json::parse(s.tools.calls()[0].body) == json{{"order_id", "o-42"}});
  // The model was offered the registry tool, and saw its answer in round two.
  auto first = json::parse(s.fake.received()[0].body);
  CHECK(first["tools"][0]["function"]["name"] == "lookup_order");
  CHECK_FALSE(first.contains("gateway_tools"));
  auto results = tool_messages(s.fake, 1);
  REQUIRE(results.size() == 1);
  CHECK(json::parse(results[0]["content"].get<std::string>()) == json{{"status", "shipped"}});
  auto second = json::parse(s.fake.received()[1].body);
  CHECK(second["messages"][1]["role"] == "assistant");
  CHECK(second["messages"][1]["tool_calls"][0]["function"]["name"] == "lookup_order");
  CHECK(r.header("x-gateway-attempts") == "2");
}

TEST_CASE("tool loop: an invalid argument never reaches the endpoint and the model hears why") {
  loop_setup s;
  s.fake.script(calls("lookup_order", R"({"order_id":42,"extra":true})"));
  s.fake.script(says("Sorry."));
  auto r = s.ask({"lookup_order"});
  REQUIRE(r.status == 200);
  CHECK(content_of(r) == "Sorry.");
  CHECK(s.tools.call_count() == 0);
  auto results = tool_messages(s.fake, 1);
  REQUIRE(results.size() == 1);
  auto err = json::parse(results[0]["content"].get<std::string>());
  CHECK(err["error"]["code"] == "invalid_arguments");
  CHECK(err["error"]["details"].size() >= 2);
}

TEST_CASE("tool loop: arguments that are not JSON are a tool error") {
  loop_setup s;
  s.fake.script(calls("lookup_order", R"({"order_id": )"));
  s.fake.script(says("Sorry."));
  REQUIRE(s.ask({"lookup_order"}).status == 200);
  CHECK(s.tools.call_count() == 0);
  auto results = tool_messages(s.fake, 1);
  REQUIRE(results.size() == 1);
  CHECK(json::parse(results[0]["content"].get<std::string>())["error"]["code"] == "invalid_arguments");
}

TEST_CASE("tool loop: an answer outside output_schema goes back as a tool error") {
  loop_setup s;
  s.tools.set_reply("/lookup", {200, R"({"unexpected":1})"});
  s.fake.script(calls("lookup_order", R"({"order_id":"o-42"})"));
  s.fake.script(says("The tool failed."));
  REQUIRE(s.ask({"lookup_order"}).status == 200);
  CHECK(s.tools.call_count() == 1);
  auto results = tool_messages(s.fake, 1);
  REQUIRE(results.size() == 1);
  CHECK(json::parse(results[0]["content"].get<std::string>())["error"]["code"] == "invalid_tool_output");
}

TEST_CASE("tool loop: a failing or slow endpoint is a tool error") {
  loop_setup s;
  s.tools.set_reply("/lookup", {500, R"({"oops":1})"});
  s.fake.script(calls("lookup_order", R"({"order_id":"o-42"})"));
  s.fake.script(says("The tool failed."));
  REQUIRE(s.ask({"lookup_order"}).status == 200);
  auto results = tool_messages(s.fake, 1);
  REQUIRE(results.size() == 1);
  CHECK(json::parse(results[0]["content"].get<std::string>())["error"]["code"] == "tool_failed");

  s.fake.reset();
  s.tools.set_reply("/lookup", {200, R"({"status":"late"})", std::chrono::milliseconds(2500)});
  s.fake.script(calls("lookup_order", R"({"order_id":"o-42"})"));
  s.fake.script(says("Timed out."));
  REQUIRE(s.ask({"lookup_order"}).status == 200);
  results = tool_messages(s.fake, 1);
  REQUIRE(results.size() == 1);
  CHECK(json::parse(results[0]["content"].get<std::string>())["error"]["code"] == "tool_timeout");
}

TEST_CASE("tool loop: at most 8 rounds then finish_reason length") {
  loop_setup s;
  for (int i = 0; i < 9; ++i) s.fake.script(calls("lookup_order", R"({"order_id":"o-42"})"));
  auto r = s.ask({"lookup_order"});
  REQUIRE(r.status == 200);
  auto j = json::parse(r.body);
  CHECK(s.fake.request_count() == 8);
  CHECK(s.tools.call_count() == 7);
  CHECK(j["choices"][0]["finish_reason"] == "length");
  CHECK(j["gateway"]["tool_loop_stopped"] == "max_rounds");
  CHECK(j["gateway"]["tool_rounds"] == 8);
  CHECK(r.header("x-gateway-attempts") == "8");
}

TEST_CASE("tool loop: unknown gateway tools are a 400 naming the tool") {
  loop_setup s;
  auto r = s.ask({"lookup_order", "launch_missiles"});
  CHECK(r.status == 400);
  CHECK(r.body.find("launch_missiles") != std::string::npos);
  CHECK(s.fake.request_count() == 0);
  auto body = s.request({"launch_missiles"}, true);
  auto streamed = s.gw.chat(body, acme);
  CHECK(streamed.status == 400);
  CHECK(json::parse(streamed.body)["error"]["code"] == "unknown_gateway_tool");
}

TEST_CASE("tool loop: a call to a client-defined tool is returned to the client as is") {
  loop_setup s;
  auto body = user_message("openai/gpt-4o-mini");
  body["gateway_tools"] = {"lookup_order"};
  body["tools"] = {{{"type", "function"},
                    {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}}};
  s.fake.script(calls("get_weather", R"({"city":"Paris"})"));
  auto r = s.gw.chat(body, acme);
  REQUIRE(r.status == 200);
  auto j = json::parse(r.body);
  CHECK(j["choices"][0]["finish_reason"] == "tool_calls");
  CHECK(j["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather");
  CHECK(s.fake.request_count() == 1);
  CHECK(s.tools.call_count() == 0);
  auto offered = json::parse(s.fake.received()[0].body)["tools"];
  CHECK(offered.size() == 2);
}

TEST_CASE("tool loop: a sensitive tool waits for approval and approval runs it once") {
  loop_setup s;
  s.fake.script(calls("refund_order", R"({"order_id":"o-42"})"));
  s.fake.script(says("Refunded."));
  auto r = s.ask({"refund_order"});
  REQUIRE(r.status == 200);
  auto j = json::parse(r.body);
  CHECK(j["choices"][0]["finish_reason"] == "tool_calls");
  auto pending = j["gateway"]["pending_confirmation"];
  REQUIRE(pending.is_object());
  CHECK(pending["tool"] == "refund_order");
  CHECK(pending["arguments"] == json{{"order_id", "o-42"}});
  CHECK(pending["expires_at"].get<std::int64_t>() > 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(s.tools.call_count() == 0);  // never before approval
  CHECK(s.fake.request_count() == 1);

  auto list = http_request(s.gw.port(), "GET", "/v1/tool-confirmations?status=pending", {}, acme);
  REQUIRE(list.status == 200);
  auto listed = json::parse(list.body)["data"];
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["id"] == pending["id"]);
  auto other_list = http_request(s.gw.port(), "GET", "/v1/tool-confirmations?status=pending", {}, globex);
  CHECK(json::parse(other_list.body)["data"].empty());

  // Another workspace can neither see nor approve it.
  auto stranger = s.decide(pending["id"], true, globex);
  CHECK(stranger.status == 404);
  CHECK(s.tools.call_count() == 0);

  auto approved = s.decide(pending["id"], true);
  REQUIRE(approved.status == 200);
  CHECK(content_of(approved) == "Refunded.");
  CHECK(s.tools.call_count("/refund") == 1);
  auto results = tool_messages(s.fake, 1);
  REQUIRE(results.size() == 1);
  CHECK(json::parse(results[0]["content"].get<std::string>()) == json{{"refunded", true}});
  CHECK(r.header("x-request-id") == approved.header("x-request-id"));

  auto again = s.decide(pending["id"], true);
  CHECK(again.status == 409);
  CHECK(s.tools.call_count() == 1);
  CHECK(json::parse(http_request(s.gw.port(), "GET", "/v1/tool-confirmations", {}, acme).body)["data"].empty());
}

TEST_CASE("tool loop: a refused sensitive call is never run and the model is told") {
  loop_setup s;
  s.fake.script(calls("refund_order", R"({"order_id":"o-42"})"));
  s.fake.script(says("I did not refund it."));
  auto r = s.ask({"refund_order"});
  REQUIRE(r.status == 200);
  auto id = json::parse(r.body)["gateway"]["pending_confirmation"]["id"].get<std::string>();
  auto refused = s.decide(id, false);
  REQUIRE(refused.status == 200);
  CHECK(content_of(refused) == "I did not refund it.");
  CHECK(s.tools.call_count() == 0);
  auto results = tool_messages(s.fake, 1);
  REQUIRE(results.size() == 1);
  CHECK(json::parse(results[0]["content"].get<std::string>())["error"]["code"] == "refused");
}

TEST_CASE("tool loop: a confirmation expires after the configured tool_confirmations.expiry_ms") {
  loop_setup s(json{{"tool_confirmations", {{"expiry_ms", 200}}}});
  s.fake.script(calls("refund_order", R"({"order_id":"o-42"})"));
  auto r = s.ask({"refund_order"});
  REQUIRE(r.status == 200);
  auto id = json::parse(r.body)["gateway"]["pending_confirmation"]["id"].get<std::string>();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(json::parse(http_request(s.gw.port(), "GET", "/v1/tool-confirmations", {}, acme).body)["data"].empty());
  auto late = s.decide(id, true);
  CHECK(late.status == 410);
  CHECK(s.tools.call_count() == 0);
  CHECK(s.decide("tc_unknown", true).status == 404);
}

TEST_CASE("tool loop: a confirmation paused on one node is approved on another through Redis") {
  const char* redis = std::getenv("SB_TEST_REDIS_URL");
  if (!redis || !*redis) {
    WARN("SB_TEST_REDIS_URL is not set: the two-node confirmation test needs Redis (tests/services.sh); SKIPPED");
    return;
  }
  fake_provider fake;
  fake_tool_server tools;
  tools.set_reply("/refund", {200, R"({"refunded":true})"});
  auto ws = "ws-tc-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  auto cfg = fast_config({{"tools", tools_config(tools)},
                          {"workspaces", {{{"id", ws}, {"api_key_sha256", {sha256_of("tok-" + ws)}}}}}});
  auto env = fake_env(fake.base_url(), {"openai"}, {{"REDIS_URL", redis}});
  running_gateway a(cfg, env);
  running_gateway b(cfg, env);
  headers auth{{"Authorization", "Bearer tok-" + ws}};
  fake.script(calls("refund_order", R"({"order_id":"o-7"})"));
  fake.script(says("Refunded on b."));
  auto body = user_message("openai/gpt-4o-mini");
  body["gateway_tools"] = {"refund_order"};
  auto r = a.chat(body, auth);
  REQUIRE(r.status == 200);
  auto id = json::parse(r.body)["gateway"]["pending_confirmation"]["id"].get<std::string>();
  auto listed = json::parse(http_request(b.port(), "GET", "/v1/tool-confirmations", {}, auth).body)["data"];
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["id"] == id);
  CHECK(tools.call_count() == 0);
  auto approved = http_request(b.port(), "POST", "/v1/tool-confirmations/" + id,
                               json{{"approve", true}, {"approver", "bob"}}.dump(), auth);
  REQUIRE(approved.status == 200);
  CHECK(content_of(approved) == "Refunded on b.");
  CHECK(tools.call_count() == 1);
  auto again = http_request(a.port(), "POST", "/v1/tool-confirmations/" + id,
                            json{{"approve", true}, {"approver", "bob"}}.dump(), auth);
  CHECK(again.status == 409);
  CHECK(tools.call_count() == 1);
}
