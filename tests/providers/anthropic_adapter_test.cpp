// The Anthropic Messages format: the translation details the shared suite
// does not pin down.
#include <catch2/catch.hpp>

#include "providers/anthropic_adapter.hpp"

using nlohmann::json;
using sb::providers::anthropic_adapter;
using sb::providers::failure_kind;
using sb::providers::to_anthropic_request;

namespace {

json messages(const char* text) { return json::parse(text); }

std::vector<json> feed(sb::providers::stream_decoder& d, const std::vector<std::pair<std::string, std::string>>& events) {
  std::vector<json> out;
  for (const auto& [name, data] : events) {
    auto f = d.on_event({name, data}, out);
    REQUIRE_FALSE(f.has_value());
  }
  return out;
}

}  // namespace

TEST_CASE("anthropic: path and headers") {
  anthropic_adapter a;
  auto r = a.encode({{"messages", json::array()}}, "claude-3-5-haiku-20241022", "sk-ant-1", true);
  CHECK(r.path == "/v1/messages");
  std::map<std::string, std::string> h(r.headers.begin(), r.headers.end());
  CHECK(h["x-api-key"] == "sk-ant-1");
  CHECK(h["anthropic-version"] == "2023-06-01");
  CHECK(h["Content-Type"] == "application/json");
  CHECK(h.count("Authorization") == 0);
  json body = json::parse(r.body);
  CHECK(body["model"] == "claude-3-5-haiku-20241022");
  CHECK(body["stream"] == true);
}

TEST_CASE("anthropic: max_tokens is required: default - max_tokens - max_completion_tokens") {
  CHECK(to_anthropic_request({{"messages", json::array()}}, "m", false)["max_tokens"] == 4096);
  CHECK(to_anthropic_request({{"max_tokens", 300}}, "m", false)["max_tokens"] == 300);
  CHECK(to_anthropic_request({{"max_tokens", 300}, {"max_completion_tokens", 200}}, "m", false)["max_tokens"] == 200);
}

TEST_CASE("anthropic: stop - temperature - user") {
  json b = to_anthropic_request({{"stop", "END"}, {"temperature", 1.6}, {"top_p", 0.8}, {"user", "alice"}}, "m", false);
  CHECK(b["stop_sequences"] == json::array({"END"}));
  CHECK(b["temperature"] == 1.0);  // OpenAI allows up to 2, Anthropic up to 1
  CHECK(b["top_p"] == 0.8);
  CHECK(b["metadata"]["user_id"] == "alice");
  CHECK_FALSE(b.contains("stream"));
}

TEST_CASE("anthropic: every system message joins `system` - same-role turns merge") {
  json b = to_anthropic_request({{"messages", messages(R"([
    {"role":"system","content":"Rule one."},
    {"role":"user","content":"Hi"},
    {"role":"user","content":[{"type":"text","text":"Still there?"},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ"}}]},
    {"role":"system","content":"Rule two."},
    {"role":"assistant","content":""},
    {"role":"assistant","content":"Yes."}])")}},
                                "m", false);
  CHECK(b["system"] == "Rule one.\n\nRule two.");
  REQUIRE(b["messages"].size() == 2);
  CHECK(b["messages"][0]["role"] == "user");
  CHECK(b["messages"][0]["content"] == json::parse(R"([
    {"type":"text","text":"Hi"},{"type":"text","text":"Still there?"},
    {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}}])"));
  CHECK(b["messages"][1] == json::parse(R"({"role":"assistant","content":[{"type":"text","text":"Yes."}]})"));
}

TEST_CASE("anthropic: tools and tool_choice") {
  json tools = json::parse(R"([{"type":"function","function":{"name":"get_weather","description":"Weather",
     "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
     {"type":"function","function":{"name":"now"}}])");
  json b = to_anthropic_request({{"tools", tools}}, "m", false);
  CHECK(b["tools"] == json::parse(R"([{"name":"get_weather","description":"Weather",
     "input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},
     {"name":"now","input_schema":{"type":"object","properties":{}}}])"));
  CHECK(b["tool_choice"] == json{{"type", "auto"}});
  CHECK(to_anthropic_request({{"tools", tools}, {"tool_choice", "required"}}, "m", false)["tool_choice"] == json{{"type", "any"}});
  CHECK(to_anthropic_request({{"tools", tools}, {"tool_choice", "none"}}, "m", false)["tool_choice"] == json{{"type", "none"}});
  CHECK(to_anthropic_request({{"tools", tools}, {"tool_choice", {{"type", "function"}, {"function", {{"name", "now"}}}}}}, "m", false)["tool_choice"] ==
        json{{"type", "tool"}, {"name", "now"}});
  CHECK(to_anthropic_request({{"tools", tools}, {"parallel_tool_calls", false}}, "m", false)["tool_choice"] ==
        json{{"type", "auto"}, {"disable_parallel_tool_use", true}});
  CHECK_FALSE(to_anthropic_request({{"tool_choice", "auto"}}, "m", false).contains("tool_choice"));
}

TEST_CASE("anthropic: tool calls become tool_use blocks - tool messages tool_result blocks") {
  json b = to_anthropic_request({{"messages", messages(R"([
    {"role":"user","content":"Weather in Paris and Rome?"},
    {"role":"assistant","content":"Checking both.","tool_calls":[
      {"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
      {"id":"toolu_2","type":"function","function":{"name":"get_weather","arguments":"not json"}}]},
    {"role":"tool","tool_call_id":"toolu_1","content":"18C"},
    {"role":"tool","tool_call_id":"toolu_2","content":[{"type":"text","text":"21C"}]},
    {"role":"user","content":"Thanks"}])")}},
                                "m", false);
  REQUIRE(b["messages"].size() == 3);
  CHECK(b["messages"][1]["content"] == json::parse(R"([
    {"type":"text","text":"Checking both."},
    {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}},
    {"type":"tool_use","id":"toolu_2","name":"get_weather","input":{}}])"));
  CHECK(b["messages"][2] == json::parse(R"({"role":"user","content":[
    {"type":"tool_result","tool_use_id":"toolu_1","content":"18C"},
    {"type":"tool_result","tool_use_id":"toolu_2","content":"21C"},
    {"type":"text","text":"Thanks"}]})"));
}

TEST_CASE("anthropic: decode counts cache tokens as prompt and maps stop reasons") {
  anthropic_adapter a;
  auto r = a.decode_response(R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-20250514",
    "content":[{"type":"thinking","thinking":"Let me think","signature":"abc"},{"type":"text","text":"Hi"},{"type":"text","text":" there"}],
    "stop_reason":"stop_sequence","stop_sequence":"END",
    "usage":{"input_tokens":10,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":7}})",
                             "fallback");
  REQUIRE(std::holds_alternative<sb::providers::decoded_completion>(r));
  const auto& d = std::get<sb::providers::decoded_completion>(r);
  CHECK(d.usage.prompt_tokens == 1110);
  CHECK(d.usage.completion_tokens == 7);
  CHECK(d.completion["id"] == "msg_1");
  CHECK(d.completion["model"] == "claude-sonnet-4-20250514");
  CHECK(d.completion["choices"][0]["message"]["content"] == "Hi there");
  CHECK(d.completion["choices"][0]["finish_reason"] == "stop");
  CHECK(sb::providers::anthropic_finish_reason("end_turn") == "stop");
  CHECK(sb::providers::anthropic_finish_reason("max_tokens") == "length");
  CHECK(sb::providers::anthropic_finish_reason("tool_use") == "tool_calls");
  CHECK(sb::providers::anthropic_finish_reason("refusal") == "content_filter");
}

TEST_CASE("anthropic: a stream with text then two tool calls") {
  anthropic_adapter a;
  auto d = a.make_stream_decoder("claude", "gw-1", 1727000000, true);
  auto out = feed(*d, {
      {"message_start", R"({"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},"content":[],"stop_reason":null}})"},
      {"content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
      {"ping", R"({"type": "ping"})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      {"content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_A","name":"get_weather","input":{}}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Paris\"}"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
      {"content_block_start", R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_B","name":"get_weather","input":{}}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Rome\"}"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":2})"},
      {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}})"},
      {"message_stop", R"({"type":"message_stop"})"},
  });
  REQUIRE(out.size() == 8);
  for (const auto& c : out) {
    CHECK(c["id"] == "msg_014p7gG3wDgGV9EUtLvnow3U");  // the format's own id
    CHECK(c["created"] == 1727000000);
    CHECK(c["model"] == "claude-sonnet-4-20250514");
  }
  CHECK(out[0]["choices"][0]["delta"] == json{{"role", "assistant"}, {"content", ""}});
  CHECK(out[1]["choices"][0]["delta"] == json{{"content", "Okay"}});
  CHECK(out[2]["choices"][0]["delta"]["tool_calls"][0] ==
        json::parse(R"({"index":0,"id":"toolu_A","type":"function","function":{"name":"get_weather","arguments":""}})"));
  CHECK(out[3]["choices"][0]["delta"]["tool_calls"][0] == json::parse(R"({"index":0,"function":{"arguments":"{\"city\": \"Paris\"}"}})"));
  CHECK(out[4]["choices"][0]["delta"]["tool_calls"][0]["index"] == 1);
  CHECK(out[4]["choices"][0]["delta"]["tool_calls"][0]["id"] == "toolu_B");
  CHECK(out[5]["choices"][0]["delta"]["tool_calls"][0]["index"] == 1);
  CHECK(out[6]["choices"][0]["delta"] == json::object());
  CHECK(out[6]["choices"][0]["finish_reason"] == "tool_calls");
  CHECK(out[7]["choices"] == json::array());
  CHECK(out[7]["usage"] == json{{"prompt_tokens", 472}, {"completion_tokens", 89}, {"total_tokens", 561}});
  CHECK(d->done());
}

TEST_CASE("anthropic: stream usage - finish reasons and errors") {
  anthropic_adapter a;
  SECTION("message_delta may repeat the input counts") {
    auto d = a.make_stream_decoder("claude", "gw-1", 1);
    feed(*d, {{"message_start", R"({"type":"message_start","message":{"id":"msg_1","model":"c","usage":{"input_tokens":5,"output_tokens":1}}})"},
              {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"input_tokens":5,"cache_read_input_tokens":20,"output_tokens":16}})"}});
    CHECK(d->usage().prompt_tokens == 25);
    CHECK(d->usage().completion_tokens == 16);
    CHECK_FALSE(d->done());
    auto out = feed(*d, {{"message_stop", R"({"type":"message_stop"})"}});
    REQUIRE(out.size() == 1);  // no usage chunk: the client did not ask
    CHECK(out[0]["choices"][0]["finish_reason"] == "length");
  }
  SECTION("error events") {
    auto d = a.make_stream_decoder("claude", "gw-1", 1);
    std::vector<json> out;
    auto f = d->on_event({"error", R"({"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}})"}, out);
    REQUIRE(f);
    CHECK(f->kind == failure_kind::rate_limited);
    CHECK(f->code == "rate_limit_error");
    CHECK(f->status == 0);
  }
  SECTION("thinking deltas are not content") {
    auto d = a.make_stream_decoder("claude", "gw-1", 1);
    auto out = feed(*d, {{"content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}})"},
                         {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}})"},
                         {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}})"}});
    REQUIRE(out.size() == 1);  // only the opening role chunk
    CHECK(out[0]["choices"][0]["delta"]["role"] == "assistant");
  }
}

TEST_CASE("anthropic: classify specifics") {
  anthropic_adapter a;
  auto low = a.classify(400, R"({"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}})");
  CHECK(low.kind == failure_kind::out_of_credit);
  auto over = a.classify(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  CHECK(over.kind == failure_kind::server_error);
  CHECK(over.code == "overloaded_error");
  CHECK(over.message == "Overloaded");
  CHECK(a.classify(413, R"({"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes."}})").kind ==
        failure_kind::client_error);
}

TEST_CASE("anthropic: translated answers and chunks have no raw text to relay") {
  anthropic_adapter a;
  auto r = a.decode_response(
      R"({"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":2}})",
      "claude");
  REQUIRE(std::holds_alternative<sb::providers::decoded_completion>(r));
  CHECK_FALSE(std::get<sb::providers::decoded_completion>(r).raw.has_value());
  auto d = a.make_stream_decoder("claude", "chatcmpl-x", 1, false);
  std::vector<sb::providers::relay_chunk> out;
  d->decode({"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})"}, out);
  REQUIRE_FALSE(out.empty());
  for (auto& c : out) CHECK(c.raw.empty());
  CHECK(out.back().chunk["choices"][0]["delta"]["content"] == "Hi");
}
