// The Gemini format: the translation details the shared suite does not pin down.
#include <catch2/catch.hpp>

#include "providers/gemini_adapter.hpp"
#include "providers/gemini_schema.hpp"

using nlohmann::json;
using sb::providers::failure_kind;
using sb::providers::gemini_adapter;
using sb::providers::to_gemini_request;

TEST_CASE("gemini: paths for a call and a stream - key header") {
  gemini_adapter a;
  auto plain = a.encode({{"messages", json::array()}}, "gemini-2.0-flash", "AIza-1", false);
  CHECK(plain.path == "/v1beta/models/gemini-2.0-flash:generateContent");
  auto stream = a.encode({{"messages", json::array()}}, "models/gemini-2.5-pro", "AIza-1", true);
  CHECK(stream.path == "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
  std::map<std::string, std::string> h(plain.headers.begin(), plain.headers.end());
  CHECK(h["x-goog-api-key"] == "AIza-1");
  CHECK(h["Content-Type"] == "application/json");
  CHECK_FALSE(json::parse(plain.body).contains("model"));
}

TEST_CASE("gemini: generationConfig and roles") {
  json b = to_gemini_request(json::parse(R"({"messages":[
      {"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":"Bye"}],
      "max_tokens":64,"temperature":1.4,"top_p":0.5,"stop":"END","seed":3,"response_format":{"type":"json_object"}})"));
  CHECK(b["systemInstruction"] == json::parse(R"({"parts":[{"text":"Be brief."}]})"));
  CHECK(b["contents"] == json::parse(R"([{"role":"user","parts":[{"text":"Hi"}]},{"role":"model","parts":[{"text":"Hello"}]},{"role":"user","parts":[{"text":"Bye"}]}])"));
  CHECK(b["generationConfig"] == json::parse(R"({"maxOutputTokens":64,"temperature":1.4,"topP":0.5,"stopSequences":["END"],"seed":3,"responseMimeType":"application/json"})"));
  CHECK_FALSE(to_gemini_request({{"messages", json::array()}}).contains("generationConfig"));
}

TEST_CASE("gemini: tool_choice becomes functionCallingConfig") {
  json tools = json::parse(R"([{"type":"function","function":{"name":"now","parameters":{"type":"object","properties":{}}}}])");
  auto mode = [&](json choice) { return to_gemini_request({{"tools", tools}, {"tool_choice", choice}})["toolConfig"]["functionCallingConfig"]; };
  CHECK(mode("auto") == json{{"mode", "AUTO"}});
  CHECK(mode("none") == json{{"mode", "NONE"}});
  CHECK(mode("required") == json{{"mode", "ANY"}});
  CHECK(mode({{"type", "function"}, {"function", {{"name", "now"}}}}) == json::parse(R"({"mode":"ANY","allowedFunctionNames":["now"]})"));
  json b = to_gemini_request({{"tools", tools}});
  CHECK_FALSE(b.contains("toolConfig"));
  CHECK(b["tools"] == json::parse(R"([{"functionDeclarations":[{"name":"now"}]}])"));  // no empty OBJECT schema
}

TEST_CASE("gemini: parameters keep only what Gemini's Schema knows") {
  json schema = json::parse(R"({
    "$schema":"http://json-schema.org/draft-07/schema#","type":"object","additionalProperties":false,
    "properties":{
      "additionalProperties":{"type":"string","description":"a property with an unlucky name"},
      "city":{"type":["string","null"],"minLength":1,"examples":["Paris"]},
      "unit":{"const":"celsius"},
      "when":{"oneOf":[{"type":"string","format":"date-time"},{"type":"integer","exclusiveMinimum":0}]},
      "tags":{"type":"array","items":{"type":"string","additionalProperties":false},"uniqueItems":true},
      "place":{"$ref":"#/$defs/Place"}},
    "required":["city"],
    "$defs":{"Place":{"type":"object","properties":{"lat":{"type":"number"}},"additionalProperties":false}}})");
  CHECK(sb::providers::gemini_schema(schema) == json::parse(R"({
    "type":"object",
    "properties":{
      "additionalProperties":{"type":"string","description":"a property with an unlucky name"},
      "city":{"type":"string","nullable":true,"minLength":1},
      "unit":{"enum":["celsius"]},
      "when":{"anyOf":[{"type":"string","format":"date-time"},{"type":"integer"}]},
      "tags":{"type":"array","items":{"type":"string"}},
      "place":{"type":"object","properties":{"lat":{"type":"number"}}}},
    "required":["city"]})"));
}

TEST_CASE("gemini: a self-referencing schema does not recurse forever") {
  json schema = json::parse(R"({"type":"object","properties":{"node":{"$ref":"#/$defs/Node"}},
    "$defs":{"Node":{"type":"object","properties":{"child":{"$ref":"#/$defs/Node"}}}}})");
  json cleaned = sb::providers::gemini_schema(schema);
  CHECK(cleaned["properties"]["node"]["type"] == "object");
}

TEST_CASE("gemini: tool calls and their results - named through the call id") {
  json b = to_gemini_request(json::parse(R"({"messages":[
    {"role":"user","content":"Weather and time?"},
    {"role":"assistant","content":null,"tool_calls":[
      {"id":"call_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
      {"id":"call_1","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"call_1","content":"12:00"},
    {"role":"tool","tool_call_id":"call_0","content":"{\"temp_c\":18}"},
    {"role":"assistant","content":"It is noon and 18C."},
    {"role":"user","content":"And tomorrow?"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_0","type":"function","function":{"name":"forecast","arguments":"{\"days\":1}"}}]},
    {"role":"tool","tool_call_id":"call_0","content":"[1,2]"}]})"));
  const json& c = b["contents"];
  REQUIRE(c.size() == 7);
  CHECK(c[1] == json::parse(R"({"role":"model","parts":[
    {"functionCall":{"name":"get_weather","args":{"city":"Paris"}}},{"functionCall":{"name":"get_time","args":{}}}]})"));
  CHECK(c[2] == json::parse(R"({"role":"user","parts":[
    {"functionResponse":{"name":"get_time","response":{"result":"12:00"}}},
    {"functionResponse":{"name":"get_weather","response":{"temp_c":18}}}]})"));
  CHECK(c[3]["role"] == "model");
  // A later turn may reuse "call_0": the latest call with that id names the result.
  CHECK(c[6]["parts"][0]["functionResponse"] == json::parse(R"({"name":"forecast","response":{"result":[1,2]}})"));
}

TEST_CASE("gemini: decode details") {
  gemini_adapter a;
  SECTION("thinking tokens are output; thought parts are not content; calls get call_<i> ids") {
    auto r = a.decode_response(R"({"candidates":[{"content":{"parts":[
        {"text":"Planning the calls","thought":true},
        {"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"CiQB"},
        {"functionCall":{"name":"get_weather","args":{"city":"Rome"}}}],"role":"model"},"finishReason":"STOP","index":0}],
      "usageMetadata":{"promptTokenCount":40,"candidatesTokenCount":20,"totalTokenCount":160,"thoughtsTokenCount":100},
      "modelVersion":"gemini-2.5-flash","responseId":"resp-1"})",
                               "gemini-2.5-flash");
    REQUIRE(std::holds_alternative<sb::providers::decoded_completion>(r));
    const auto& d = std::get<sb::providers::decoded_completion>(r);
    CHECK(d.usage.prompt_tokens == 40);
    CHECK(d.usage.completion_tokens == 120);
    const json& msg = d.completion["choices"][0]["message"];
    CHECK(msg["content"].is_null());
    REQUIRE(msg["tool_calls"].size() == 2);
    CHECK(msg["tool_calls"][0]["id"] == "call_0");
    CHECK(msg["tool_calls"][1]["id"] == "call_1");
    CHECK(msg["tool_calls"][1]["function"]["arguments"] == R"({"city":"Rome"})");
    CHECK(d.completion["choices"][0]["finish_reason"] == "tool_calls");
    CHECK(d.completion["model"] == "gemini-2.5-flash");
  }
  SECTION("safety stops are content_filter") {
    auto r = a.decode_response(R"({"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"SAFETY","safetyRatings":[{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH","blocked":true}]}],"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}})", "m");
    CHECK(std::get<sb::providers::decoded_completion>(r).completion["choices"][0]["finish_reason"] == "content_filter");
  }
  SECTION("a blocked prompt has no candidate at all") {
    auto r = a.decode_response(R"({"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8},"modelVersion":"gemini-2.0-flash"})", "m");
    REQUIRE(std::holds_alternative<sb::providers::decoded_completion>(r));
    CHECK(std::get<sb::providers::decoded_completion>(r).completion["choices"][0]["finish_reason"] == "content_filter");
  }
  CHECK(sb::providers::gemini_finish_reason("RECITATION", false) == "content_filter");
  CHECK(sb::providers::gemini_finish_reason("MAX_TOKENS", true) == "length");
  CHECK(sb::providers::gemini_finish_reason("STOP", true) == "tool_calls");
}

TEST_CASE("gemini: the stream ends at the chunk with a finishReason") {
  gemini_adapter a;
  auto d = a.make_stream_decoder("gemini-2.0-flash", "chatcmpl-gw7", 1727000000, true);
  std::vector<json> out;
  auto chunk = [](const std::string& parts, const std::string& extra) {
    return R"({"candidates":[{"content":{"parts":)" + parts + R"(,"role":"model"})" + extra +
           R"(}],"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":3,"totalTokenCount":10},"modelVersion":"gemini-2.0-flash","responseId":"r"})";
  };
  CHECK_FALSE(d->on_event({"", chunk(R"([{"text":"Bon"}])", "")}, out));
  CHECK_FALSE(d->done());
  CHECK_FALSE(d->on_event({"", chunk(R"([{"text":"jour"}])", R"(,"finishReason":"STOP")")}, out));
  CHECK(d->done());
  REQUIRE(out.size() == 5);  // role, "Bon", "jour", finish, usage
  for (const auto& c : out) {
    CHECK(c["id"] == "chatcmpl-gw7");  // Gemini chunks have no id of their own
    CHECK(c["created"] == 1727000000);
  }
  CHECK(out[2]["choices"][0]["delta"] == json{{"content", "jour"}});
  CHECK(out[3]["choices"][0]["finish_reason"] == "stop");
  CHECK(out[4]["usage"]["total_tokens"] == 10);
}

TEST_CASE("gemini: stream errors") {
  gemini_adapter a;
  auto d = a.make_stream_decoder("m", "id", 1);
  std::vector<json> out;
  auto f = d->on_event({"", R"({"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}})"}, out);
  REQUIRE(f);
  CHECK(f->kind == failure_kind::rate_limited);
  CHECK(f->code == "RESOURCE_EXHAUSTED");
}

TEST_CASE("gemini: classify specifics") {
  gemini_adapter a;
  auto bad_key = a.classify(400, R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}})");
  CHECK(bad_key.kind == failure_kind::auth_invalid);
  CHECK(bad_key.code == "API_KEY_INVALID");
  // The non-SSE stream endpoint wraps its error in an array.
  auto wrapped = a.classify(429, R"([{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}])");
  CHECK(wrapped.kind == failure_kind::rate_limited);
  CHECK(wrapped.message == "Quota exceeded");
  auto other = a.classify(400, R"({"error":{"code":400,"message":"* GenerateContentRequest.contents: contents is not specified\n","status":"INVALID_ARGUMENT"}})");
  CHECK(other.kind == failure_kind::client_error);
  CHECK(other.code == "INVALID_ARGUMENT");
}
