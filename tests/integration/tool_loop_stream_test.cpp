// SPEC 9 / ADR-0013: the tool loop when the client streams. One SSE stream
// across all rounds: content as it arrives, gateway tool calls run by the
// gateway (never relayed), the loop's end as OpenAI chunk shapes, [DONE].

#include <thread>

#include "tests/integration/tool_loop_fixture.hpp"

namespace {

/// The stream's chunks (the `data:` payloads but [DONE]), parsed.
std::vector<json> chunks_of(const std::string& body) {
  std::vector<json> out;
  for (auto& d : sse_data(body))
    if (d != "[DONE]") out.push_back(json::parse(d));
  return out;
}

bool ends_with_done(const std::string& body) {
  auto data = sse_data(body);
  return !data.empty() && data.back() == "[DONE]";
}

std::size_t chunks_with_tool_calls(const std::vector<json>& chunks) {
  std::size_t n = 0;
  for (auto& c : chunks)
    for (auto& choice : c.value("choices", json::array()))
      if (choice.contains("delta") && choice["delta"].contains("tool_calls")) ++n;
  return n;
}

/// The last chunk that has a choice (the usage chunk has none).
json last_choice_chunk(const std::vector<json>& chunks) {
  for (auto i = chunks.rbegin(); i != chunks.rend(); ++i)
    if (!(*i)["choices"].empty()) return *i;
  return {};
}

scripted_reply says_then_calls(const std::string& text, const std::string& name, const std::string& arguments) {
  auto r = calls(name, arguments);
  r.text = text;
  r.chunks = 1;  // the text in one delta
  return r;
}

/// The request's ledger rows (GET /v1/usage/events), each a JSON object.
std::vector<json> ledger_rows(running_gateway& gw, const std::string& request_id, const headers& h = acme) {
  auto t = std::time(nullptr);
  char period[8];
  std::strftime(period, sizeof period, "%Y-%m", std::gmtime(&t));
  auto r = http_request(gw.port(), "GET", std::string("/v1/usage/events?format=jsonl&period=") + period, {}, h);
  REQUIRE(r.status == 200);
  std::vector<json> rows;
  std::size_t pos = 0;
  while (pos < r.body.size()) {
    auto end = r.body.find('\n', pos);
    if (end == std::string::npos) end = r.body.size();
    if (end > pos) {
      auto row = json::parse(r.body.substr(pos, end - pos));
      if (row["request_id"] == request_id) rows.push_back(row);
    }
    pos = end + 1;
  }
  return rows;
}

}  // namespace

TEST_CASE("streamed tool loop: every round's content in one stream with one id and the tool run by the gateway") {
  loop_setup s;
  s.fake.script(says_then_calls("Let me check. ", "lookup_order", R"({"order_id":"o-42"})"));
  s.fake.script(says("Your order has shipped."));
  auto r = s.gw.chat(s.request({"lookup_order"}, true), acme);
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type") == "text/event-stream");
  CHECK(ends_with_done(r.body));
  auto chunks = chunks_of(r.body);
  REQUIRE(chunks.size() >= 3);
  for (auto& c : chunks) {
    CHECK(c["id"] == chunks[0]["id"]);
    CHECK(c["object"] == "chat.completion.chunk");
  }
  CHECK(streamed_text(r.body) == "Let me check. Your order has shipped.");
  CHECK(chunks_with_tool_calls(chunks) == 0);  // the gateway ran it: the client never sees it
  auto last = last_choice_chunk(chunks);
  CHECK(last["choices"][0]["finish_reason"] == "stop");
  CHECK(last["gateway"]["tool_rounds"] == 2);
  REQUIRE(s.tools.call_count() == 1);
  CHECK(json::parse(s.tools.calls()[0].body) == json{{"order_id", "o-42"}});
  // Both rounds streamed upstream; the second saw the first's text, call and result.
  REQUIRE(s.fake.request_count() == 2);
  auto second = json::parse(s.fake.received()[1].body);
  CHECK(second["stream"] == true);
  CHECK(second["messages"][1]["content"] == "Let me check. ");
  CHECK(second["messages"][1]["tool_calls"][0]["function"]["arguments"] == R"({"order_id":"o-42"})");
  CHECK(json::parse(tool_messages(s.fake, 1).at(0)["content"].get<std::string>()) == json{{"status", "shipped"}});
  // A ledger row per upstream call, both ok.
  auto rows = ledger_rows(s.gw, r.header("x-request-id"));
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["status"] == "ok");
  CHECK(rows[1]["status"] == "ok");
}

TEST_CASE("streamed tool loop: include_usage sends one usage chunk that sums every round") {
  loop_setup s;
  s.fake.script(calls("lookup_order", R"({"order_id":"o-42"})"));
  s.fake.script(says("Shipped."));
  auto body = s.request({"lookup_order"}, true);
  body["stream_options"] = {{"include_usage", true}};
  auto r = s.gw.chat(body, acme);
  REQUIRE(r.status == 200);
  auto chunks = chunks_of(r.body);
  std::vector<json> usage;
  for (auto& c : chunks)
    if (c.contains("usage") && c["usage"].is_object()) usage.push_back(c);
  REQUIRE(usage.size() == 1);
  CHECK(usage[0]["choices"].empty());
  CHECK(chunks.back()["usage"].is_object());  // after the finish chunk
  std::int64_t billed = 0;
  for (auto& row : ledger_rows(s.gw, r.header("x-request-id")))
    billed += row["prompt_tokens"].get<std::int64_t>() + row["completion_tokens"].get<std::int64_t>();
  CHECK(billed > 0);
  CHECK(usage[0]["usage"]["total_tokens"] == billed);
}

TEST_CASE("streamed tool loop: a client tool's call is relayed as tool_call deltas and ends the loop") {
  loop_setup s;
  auto body = s.request({"lookup_order"}, true);
  body["tools"] = {{{"type", "function"},
                    {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}}};
  s.fake.script(calls("get_weather", R"({"city":"Paris"})"));
  auto r = s.gw.chat(body, acme);
  REQUIRE(r.status == 200);
  CHECK(ends_with_done(r.body));
  auto chunks = chunks_of(r.body);
  std::string name, arguments;
  for (auto& c : chunks)
    for (auto& choice : c["choices"])
      if (choice["delta"].contains("tool_calls"))
        for (auto& call : choice["delta"]["tool_calls"]) {
          CHECK(call["index"] == 0);
          if (call["function"].contains("name")) name += call["function"]["name"].get<std::string>();
          if (call["function"].contains("arguments")) arguments += call["function"]["arguments"].get<std::string>();
        }
  CHECK(name == "get_weather");
  CHECK(json::parse(arguments) == json{{"city", "Paris"}});
  CHECK(last_choice_chunk(chunks)["choices"][0]["finish_reason"] == "tool_calls");
  CHECK(s.fake.request_count() == 1);
  CHECK(s.tools.call_count() == 0);
}

TEST_CASE("streamed tool loop: a sensitive call ends the stream with the pending confirmation and approval answers whole") {
  loop_setup s;
  s.fake.script(calls("refund_order", R"({"order_id":"o-42"})"));
  s.fake.script(says("Refunded."));
  auto r = s.gw.chat(s.request({"refund_order"}, true), acme);
  REQUIRE(r.status == 200);
  CHECK(ends_with_done(r.body));
  auto chunks = chunks_of(r.body);
  auto last = last_choice_chunk(chunks);
  CHECK(last["choices"][0]["finish_reason"] == "tool_calls");
  auto call = last["choices"][0]["delta"]["tool_calls"][0];
  CHECK(call["function"]["name"] == "refund_order");
  CHECK(json::parse(call["function"]["arguments"].get<std::string>()) == json{{"order_id", "o-42"}});
  auto pending = last["gateway"]["pending_confirmation"];
  REQUIRE(pending.is_object());
  CHECK(pending["tool"] == "refund_order");
  CHECK(pending["tool_call_id"] == call["id"]);
  CHECK(pending["arguments"] == json{{"order_id", "o-42"}});
  CHECK(s.tools.call_count() == 0);

  auto approved = s.decide(pending["id"], true);
  REQUIRE(approved.status == 200);
  CHECK(approved.header("content-type") == "application/json");
  CHECK(content_of(approved) == "Refunded.");
  CHECK(s.tools.call_count("/refund") == 1);
  CHECK_FALSE(json::parse(s.fake.received()[1].body).contains("stream"));
}

TEST_CASE("streamed tool loop: at most 8 rounds then finish_reason length") {
  loop_setup s;
  for (int i = 0; i < 9; ++i) s.fake.script(calls("lookup_order", R"({"order_id":"o-42"})"));
  auto r = s.gw.chat(s.request({"lookup_order"}, true), acme);
  REQUIRE(r.status == 200);
  CHECK(ends_with_done(r.body));
  auto last = last_choice_chunk(chunks_of(r.body));
  CHECK(last["choices"][0]["finish_reason"] == "length");
  CHECK(last["gateway"]["tool_loop_stopped"] == "max_rounds");
  CHECK(last["gateway"]["tool_rounds"] == 8);
  CHECK(s.fake.request_count() == 8);
  CHECK(s.tools.call_count() == 7);
}

TEST_CASE("streamed tool loop: a later round that fails before its first content falls through to the next target") {
  fake_provider fake;
  fake_tool_server tools;
  tools.set_reply("/lookup", {200, R"({"status":"shipped"})"});
  running_gateway gw(fast_config({{"tools", tools_config(tools)}}), fake_env(fake.base_url(), {"openai", "deepseek"}));
  fake.script(says_then_calls("Checking. ", "lookup_order", R"({"order_id":"o-42"})"));
  fake.script(sb::fakes::error_reply(sb::fakes::wire_format::openai, 404));  // round 2, openai: model gone
  fake.script(says("Shipped."));                                            // round 2, deepseek
  auto body = user_message("openai/gpt-4o-mini");
  body["gateway_tools"] = {"lookup_order"};
  body["stream"] = true;
  auto r = gw.chat(body);
  REQUIRE(r.status == 200);
  CHECK(r.body.find("event: error") == std::string::npos);
  CHECK(streamed_text(r.body) == "Checking. Shipped.");
  CHECK(ends_with_done(r.body));
  REQUIRE(fake.request_count() == 3);
  CHECK(fake.received()[2].target.find("/v1/chat/completions") != std::string::npos);
  CHECK(json::parse(fake.received()[2].body)["model"] != "gpt-4o-mini");
}

TEST_CASE("streamed tool loop: a client that leaves during a tool call stops the loop") {
  loop_setup s;
  s.tools.set_reply("/lookup", {200, R"({"status":"late"})", std::chrono::milliseconds(800)});
  s.fake.script(says_then_calls("Checking. ", "lookup_order", R"({"order_id":"o-42"})"));
  s.fake.script(says("Never sent."));
  {
    http_connection c(s.gw.port());
    c.send_request("POST", "/v1/chat/completions", s.request({"lookup_order"}, true).dump(), acme);
    REQUIRE(c.read_head().status == 200);
    std::string seen;
    while (seen.find("Checking.") == std::string::npos) seen += c.read_chunk();
    REQUIRE(s.fake.wait_for_requests(1, std::chrono::seconds(2)));
    for (int i = 0; i < 100 && s.tools.call_count() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(s.tools.call_count() == 1);
  }  // the client leaves while the tool runs
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(s.fake.request_count() == 1);  // no further round
}
