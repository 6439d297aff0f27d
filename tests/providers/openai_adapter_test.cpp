// The OpenAI format: a relay. What it may change in the request, and that it
// passes upstream chunks through untouched.
#include <catch2/catch.hpp>

#include "providers/adapter.hpp"
#include "providers/openai_adapter.hpp"
#include "providers/openai_scan.hpp"

using nlohmann::json;
using sb::providers::failure_kind;
using sb::providers::openai_adapter;

namespace {

std::string header(const sb::providers::encoded_request& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "<missing>";
}

const char* const client_request_text = R"({
  "model": "openai/gpt-4o-mini",
  "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
  "max_completion_tokens": 50, "temperature": 0.2, "stop": "END", "user": "alice", "seed": 7,
  "response_format": {"type": "json_object"},
  "stream": true, "stream_options": {"include_usage": false, "include_obfuscation": false},
  "gateway_tools": ["refund_order"], "prompt": {"id": "support"}, "gateway": {"trace": true}
})";
const json client_request = json::parse(client_request_text);

}  // namespace

TEST_CASE("openai: path - bearer auth and the provider's extra headers") {
  sb::provider_config p;
  p.id = "openai";
  p.format = sb::wire_format::openai_chat;
  p.extra_headers = {{"OpenAI-Organization", "org-abc"}};
  auto a = sb::providers::make_adapter(p);
  auto r = a->encode(client_request, "gpt-4o-mini", "sk-test", false);
  CHECK(r.path == "/chat/completions");
  CHECK(header(r, "Authorization") == "Bearer sk-test");
  CHECK(header(r, "Content-Type") == "application/json");
  CHECK(header(r, "OpenAI-Organization") == "org-abc");
}

TEST_CASE("openai: the body is the client's request with the target model and no gateway fields") {
  openai_adapter a;
  json body = json::parse(a.encode(client_request, "gpt-4o-mini", "k", false).body);
  json expected = client_request;
  for (const char* k : {"gateway_tools", "prompt", "gateway", "stream", "stream_options"}) expected.erase(k);
  expected["model"] = "gpt-4o-mini";
  CHECK(body == expected);
}

TEST_CASE("openai: streaming asks for usage and keeps the client's other stream options") {
  openai_adapter a;
  json body = json::parse(a.encode(client_request, "gpt-4o-mini", "k", true).body);
  CHECK(body["stream"] == true);
  CHECK(body["stream_options"] == json{{"include_usage", true}, {"include_obfuscation", false}});

  json bare = {{"model", "x"}, {"messages", json::array()}};
  json bare_body = json::parse(a.encode(bare, "m", "k", true).body);
  CHECK(bare_body["stream_options"] == json{{"include_usage", true}});
}

TEST_CASE("openai: text that needs escaping survives the member-by-member body") {
  openai_adapter a;
  json request = {{"messages", {{{"role", "user"}, {"content", "quote \" backslash \\ newline \n ü 𝄞"}}}},
                  {"we\"ird", 1}};
  json body = json::parse(a.encode(request, "m\"odel", "k", false).body);
  CHECK(body["messages"][0]["content"] == request["messages"][0]["content"]);
  CHECK(body["we\"ird"] == 1);
  CHECK(body["model"] == "m\"odel");
  for (std::string model : {"plain-model/v1:free", "back\\slash", "new\nline", "caf\xc3\xa9", "del\x7f"})
    CHECK(json::parse(a.encode(request, model, "k", false).body)["model"] == model);
}

namespace {

// Bodies a client may send, each written in a way a dump of its parse would
// not reproduce (escapes, key order, number spellings, white space), and
// some that repeat a key.
const char* const client_texts[] = {
    client_request_text,
    R"({"model":"m","messages":[{"role":"user","content":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n \u0000\u001f"}],"user":"\u00fc"})",
    R"({"response_format":{"type":"json_schema","json_schema":{"z":1,"a":{"y":[{"b":2,"a":1}]}}},"model":"m","messages":[]})",
    R"({"model":"m","messages":[],"temperature":1.0,"top_p":1e-1,"n":1E0,"x":-0.0,"y":0,"z":-0,
        "big":123456789012345678901234567890,"u":18446744073709551615,"i":-9223372036854775808,
        "f":1.5e308,"tiny":5e-324,"e":1e5})",
    " {\n \"model\" : \"m\" ,\t\"messages\" : [ ] , \"stream\" : true , \"stream_options\" : { \"include_usage\" : false , \"x\" : 1 } } \n",
    R"({"model":"m","messages":[],"stream":true,"stream_options":null})",
    R"({"model":"m","stream":false,"gateway":{"a":1},"prompt":{"id":"p"},"gateway_tools":["t"]})",
    R"({"we\"ird":1,"caf\u00e9":{"":[true,false,null]},"model":"m"})",
    "{}",
    R"({"model":"m","\u006dodel":"n"})",
    R"({"model":"m","messages":[],"temperature":0.1,"temperature":0.9,"stream":true})",
};

}  // namespace

TEST_CASE("openai: the body copied from the client's text equals the body written from its parse") {
  for (auto* text : client_texts) {
    for (bool stream : {false, true}) {
      INFO(text << (stream ? " (stream)" : ""));
      auto request = json::parse(text);
      auto copied = sb::providers::openai_request_body_from_text(text, "gpt-4o", stream);
      if (request.size() != sb::providers::object_members(text)->size()) {
        // A repeated key: the tree kept the last one, so the text is not used.
        CHECK_FALSE(copied);
        continue;
      }
      REQUIRE(copied);
      CHECK(json::parse(*copied) == json::parse(sb::providers::openai_request_body(request, "gpt-4o", stream)));
    }
  }
}

TEST_CASE("openai: the members go upstream as the client wrote them") {
  const std::string text =
      R"({"messages": [{"role": "user", "content": "caf\u00e9"}], "model": "x", "temperature": 1.0,)"
      R"( "metadata": {"b": 1, "a": 2}, "big": 123456789012345678901234567890})";
  auto body = sb::providers::openai_request_body_from_text(text, "gpt-4o", false);
  REQUIRE(body);
  CHECK(*body == R"({"messages": [{"role": "user", "content": "caf\u00e9"}],"temperature": 1.0,)"
                 R"("metadata": {"b": 1, "a": 2},"big": 123456789012345678901234567890,"model":"gpt-4o"})");
}

TEST_CASE("openai: a text that repeats a key or is not a JSON object is not copied") {
  const std::string repeated = R"({"model":"m","messages":[],"temperature":0.1,"temperature":0.9})";
  auto request = json::parse(repeated);
  CHECK(request["temperature"] == 0.9);  // nlohmann keeps the last
  CHECK_FALSE(sb::providers::openai_request_body_from_text(repeated, "m", false));
  openai_adapter a;
  CHECK(json::parse(a.encode(sb::chat_body::from_text(repeated), "m", "k", false).body)["temperature"] == 0.9);

  for (const char* text : {"", "[]", "{", "{} {}", "{\"model\":\"m\",}", "\xEF\xBB\xBF{}"}) {
    INFO(text);
    CHECK_FALSE(sb::providers::openai_request_body_from_text(text, "m", false));
  }
  // A body without the client's text is written from the tree.
  json tree = {{"messages", json::array()}, {"temperature", 0.5}};
  CHECK(a.encode(sb::chat_body(tree), "m", "k", true).body == sb::providers::openai_request_body(tree, "m", true));
}

TEST_CASE("openai: stream chunks pass through as the provider sent them") {
  openai_adapter a;
  auto d = a.make_stream_decoder("gpt-4o-mini", "gw-id", 1, true);
  const std::string raw =
      R"({"id":"chatcmpl-9","object":"chat.completion.chunk","created":1727000001,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}],"usage":null})";
  std::vector<json> out;
  CHECK_FALSE(d->on_event({"", raw}, out).has_value());
  REQUIRE(out.size() == 1);
  CHECK(out[0] == json::parse(raw));  // own id, created and model kept
  CHECK_FALSE(d->done());
  CHECK_FALSE(d->usage().reported);
}

TEST_CASE("openai: the usage-only chunk reaches only a client that asked for it") {
  const std::string usage_chunk =
      R"({"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})";
  openai_adapter a;
  for (bool include : {false, true}) {
    auto d = a.make_stream_decoder("m", "id", 1, include);
    std::vector<json> out;
    d->on_event({"", usage_chunk}, out);
    d->on_event({"", "[DONE]"}, out);
    CHECK(out.size() == (include ? 1u : 0u));
    CHECK(d->done());
    CHECK(d->usage().reported);
    CHECK(d->usage().prompt_tokens == 9);
    CHECK(d->usage().completion_tokens == 3);
  }
  // The three-argument factory is the one without the usage chunk.
  auto d = a.make_stream_decoder("m", "id", 1);
  std::vector<json> out;
  d->on_event({"", usage_chunk}, out);
  CHECK(out.empty());
}

TEST_CASE("openai: errors inside the stream are failures") {
  openai_adapter a;
  std::vector<json> out;
  SECTION("OpenRouter's mid-stream error chunk") {
    auto d = a.make_stream_decoder("m", "id", 1);
    auto f = d->on_event(
        {"", R"({"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"anthropic/claude-3.5-sonnet","provider":"Anthropic","error":{"code":502,"message":"Provider disconnected"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]})"},
        out);
    REQUIRE(f);
    CHECK(f->kind == failure_kind::server_error);
    CHECK(f->message == "Provider disconnected");
    CHECK(out.empty());
  }
  SECTION("a rate limit reported in the stream") {
    auto d = a.make_stream_decoder("m", "id", 1);
    auto f = d->on_event({"", R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})"}, out);
    REQUIRE(f);
    CHECK(f->kind == failure_kind::rate_limited);
    CHECK(f->code == "rate_limit_exceeded");
  }
  SECTION("data that is not JSON") {
    auto d = a.make_stream_decoder("m", "id", 1);
    auto f = d->on_event({"", "{\"id\": \"chatcmpl-1\", \"choi"}, out);
    REQUIRE(f);
    CHECK(f->kind == failure_kind::server_error);
  }
  SECTION("empty data is no event") {
    auto d = a.make_stream_decoder("m", "id", 1);
    CHECK_FALSE(d->on_event({"", ""}, out).has_value());
    CHECK(out.empty());
  }
}

TEST_CASE("openai: a 200 that carries an error envelope is not a completion") {
  openai_adapter a;
  auto r = a.decode_response(R"({"error":{"message":"No endpoints found for x.","code":404}})", "m");
  REQUIRE(std::holds_alternative<std::string>(r));
  CHECK(std::get<std::string>(r).find("No endpoints found") != std::string::npos);
}

TEST_CASE("openai: classify details of OpenAI-compatible hosts") {
  openai_adapter a;
  CHECK(a.classify(400, R"({"error":{"message":"anthropic/claude-9 is not a valid model ID","code":400}})").kind ==
        failure_kind::target_unavailable);
  CHECK(a.classify(400, R"({"error":{"message":"This model's maximum context length is 65536 tokens. However, you requested 70000 tokens.","type":"invalid_request_error","param":null,"code":"invalid_request_error"}})").kind ==
        failure_kind::target_unavailable);
  auto quota = a.classify(429, R"({"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}})");
  CHECK(quota.kind == failure_kind::out_of_credit);
  CHECK(quota.code == "insufficient_quota");
  auto plain = a.classify(429, R"({"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}})");
  CHECK(plain.kind == failure_kind::rate_limited);
  CHECK(plain.code == "rate_limit_exceeded");
  CHECK(a.classify(408, "").kind == failure_kind::server_error);
}

TEST_CASE("openai: a completion is relayed as the provider's bytes, usage still read") {
  // Keys in the provider's order (not alphabetical) and its own spacing.
  const std::string body =
      R"({"id":"chatcmpl-1","object":"chat.completion","created":1727000001,"model":"gpt-4o-mini", "choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})";
  openai_adapter a;
  auto r = a.decode_response(body, "gpt-4o-mini");
  REQUIRE(std::holds_alternative<sb::providers::decoded_completion>(r));
  auto& d = std::get<sb::providers::decoded_completion>(r);
  REQUIRE(d.raw.has_value());
  CHECK(*d.raw == body);
  CHECK(d.completion.is_null());  // relayed as text: no tree until one is asked for
  CHECK(d.parsed() == json::parse(body));
  CHECK(d.created == 1727000001);
  CHECK(d.text == "Hi");
  CHECK_FALSE(d.tool_calls);
  CHECK(d.usage.reported);
  CHECK(d.usage.prompt_tokens == 9);
  CHECK(d.usage.completion_tokens == 3);
  // Still validated: no choices, no raw relay.
  CHECK(std::holds_alternative<std::string>(a.decode_response(R"({"object":"chat.completion","choices":[]})", "m")));
}

TEST_CASE("openai: the relay gets each chunk's text as sent with its facts and the usage chunk as asked") {
  const std::string content =
      R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]})";
  const std::string usage_chunk =
      R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})";
  openai_adapter a;
  for (bool include : {false, true}) {
    auto d = a.make_stream_decoder("m", "id", 1, include);
    std::vector<sb::providers::relay_chunk> out;
    CHECK_FALSE(d->decode({"", " " + content + "\n"}, out).has_value());
    CHECK_FALSE(d->decode({"", usage_chunk}, out).has_value());
    CHECK_FALSE(d->decode({"", "[DONE]"}, out).has_value());
    REQUIRE(out.size() == (include ? 2u : 1u));
    CHECK(out[0].raw == content);  // trimmed, byte for byte
    CHECK(out[0].chunk.is_null());  // no tree for a content chunk
    CHECK(out[0].facts.content);
    CHECK(out[0].facts.text == "Hi");
    CHECK(out[0].facts.content_chars == 2);
    if (include) CHECK(out[1].raw == usage_chunk);
    CHECK(d->done());
    CHECK(d->usage().prompt_tokens == 9);
  }
  auto d = a.make_stream_decoder("m", "id", 1);
  std::vector<sb::providers::relay_chunk> out;
  auto f = d->decode({"", R"({"error":{"message":"overloaded","type":"server_error"}})"}, out);
  CHECK(f.has_value());
  CHECK(out.empty());
}

TEST_CASE("openai: a tool-call chunk reaches the relay parsed as well as as text") {
  const std::string call =
      R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":"}}]},"finish_reason":null}]})";
  openai_adapter a;
  auto d = a.make_stream_decoder("m", "id", 1);
  std::vector<sb::providers::relay_chunk> out;
  CHECK_FALSE(d->decode({"", call}, out).has_value());
  REQUIRE(out.size() == 1);
  CHECK(out[0].raw == call);
  CHECK(out[0].chunk == json::parse(call));
  CHECK(out[0].facts.content);
  CHECK(out[0].facts.content_chars == 5);
}
