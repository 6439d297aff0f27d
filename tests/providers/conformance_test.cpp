// One suite, every adapter: the same cases run over the OpenAI, Anthropic and
// Gemini formats, and the client must always see OpenAI shapes. Each format
// contributes realistic upstream bodies (as the real APIs send them) and
// "lenses" that read its encoded request back in neutral terms.
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "providers/adapter.hpp"

namespace {

using nlohmann::json;
using sb::sse_event;
using sb::providers::failure_kind;

using turn = std::pair<std::string, std::string>;  // neutral role (user/assistant), text

struct classify_row {
  std::string what;
  int status;
  std::string body;
  failure_kind expected;
};

struct format_case {
  std::string name;
  sb::wire_format format;
  std::string auth_header;  // name of the header carrying the key

  // Upstream answers for the shared cases.
  std::string text_response;       // "Hello there!", finished normally, 12 + 5 tokens
  std::string tool_call_response;  // get_weather({"city":"Paris"}), 30 + 12 tokens
  std::string length_response;     // cut by max tokens
  std::vector<sse_event> text_stream;  // "Hel" + "lo", 12 + 5 tokens
  std::vector<sse_event> tool_stream;  // get_weather({"city":"Paris"}) streamed, 30 + 12 tokens
  sse_event overloaded_event;          // an in-stream overload error
  std::function<std::string(int, const std::string&, const std::string&)> error_body;
  std::string context_too_long_body;   // the 400 the format sends for an over-long prompt
  std::vector<classify_row> own_rows;  // rows only this format has

  // Lenses over the encoded body.
  std::function<std::string(const json&)> system_text;
  std::function<std::vector<turn>(const json&)> turns;
  std::function<json(const json&)> sampling;  // {max_tokens, temperature, top_p, stop}
  std::function<std::vector<std::string>(const json&)> tool_names;
  std::function<json(const json&)> tool_exchange;  // {call_name, call_args, result_linked, result_text}
};

// ---------------------------------------------------------------- OpenAI ---

sse_event data(std::string d) { return {"", std::move(d)}; }
sse_event named(std::string event, std::string d) { return {std::move(event), std::move(d)}; }

std::string openai_chunk(const std::string& delta, const std::string& finish = "null") {
  return R"({"id":"chatcmpl-9xYz","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":)" +
         delta + R"(,"logprobs":null,"finish_reason":)" + finish + R"(}],"usage":null})";
}

std::string openai_usage_chunk(int prompt, int completion) {
  return R"({"id":"chatcmpl-9xYz","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[],"usage":{"prompt_tokens":)" +
         std::to_string(prompt) + R"(,"completion_tokens":)" + std::to_string(completion) +
         R"(,"total_tokens":)" + std::to_string(prompt + completion) +
         R"(,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}}})";
}

std::string openai_completion(const std::string& message, const std::string& finish, int prompt, int completion) {
  return R"({"id":"chatcmpl-AB12","object":"chat.completion","created":1727000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":)" +
         message + R"(,"logprobs":null,"finish_reason":")" + finish + R"("}],"usage":{"prompt_tokens":)" +
         std::to_string(prompt) + R"(,"completion_tokens":)" + std::to_string(completion) +
         R"(,"total_tokens":)" + std::to_string(prompt + completion) +
         R"(,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_0ba0d124f1"})";
}

std::string text_of(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (content.is_array())
    for (const auto& p : content)
      if (p.value("type", "") == "text") out += p.value("text", "");
  return out;
}

format_case openai_case() {
  format_case c;
  c.name = "openai";
  c.format = sb::wire_format::openai_chat;
  c.auth_header = "Authorization";
  c.text_response = openai_completion(R"({"role":"assistant","content":"Hello there!","refusal":null,"annotations":[]})", "stop", 12, 5);
  c.tool_call_response = openai_completion(
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_Qa1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}],"refusal":null,"annotations":[]})",
      "tool_calls", 30, 12);
  c.length_response = openai_completion(R"({"role":"assistant","content":"Once upon","refusal":null})", "length", 12, 2);
  c.text_stream = {data(openai_chunk(R"({"role":"assistant","content":"","refusal":null})")),
                   data(openai_chunk(R"({"content":"Hel"})")),
                   data(openai_chunk(R"({"content":"lo"})")),
                   data(openai_chunk("{}", "\"stop\"")),
                   data(openai_usage_chunk(12, 5)),
                   data("[DONE]")};
  c.tool_stream = {
      data(openai_chunk(R"({"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_Qa1","type":"function","function":{"name":"get_weather","arguments":""}}],"refusal":null})")),
      data(openai_chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]})")),
      data(openai_chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"ty\":\"Paris\"}"}}]})")),
      data(openai_chunk("{}", "\"tool_calls\"")),
      data(openai_usage_chunk(30, 12)),
      data("[DONE]")};
  c.overloaded_event = data(R"({"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}})");
  c.error_body = [](int, const std::string& code, const std::string& message) {
    return json{{"error", {{"message", message}, {"type", "invalid_request_error"}, {"param", nullptr}, {"code", code.empty() ? json() : json(code)}}}}.dump();
  };
  c.context_too_long_body =
      R"({"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}})";
  c.own_rows = {{"429 insufficient_quota", 429,
                 R"({"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}})",
                 failure_kind::out_of_credit}};
  c.system_text = [](const json& b) {
    std::string s;
    for (const auto& m : b["messages"])
      if (m["role"] == "system") s += text_of(m["content"]);
    return s;
  };
  c.turns = [](const json& b) {
    std::vector<turn> out;
    for (const auto& m : b["messages"])
      if (m["role"] != "system") out.emplace_back(m["role"].get<std::string>(), text_of(m["content"]));
    return out;
  };
  c.sampling = [](const json& b) {
    return json{{"max_tokens", b.value("max_tokens", json())}, {"temperature", b.value("temperature", json())},
                {"top_p", b.value("top_p", json())}, {"stop", b.value("stop", json())}};
  };
  c.tool_names = [](const json& b) {
    std::vector<std::string> out;
    for (const auto& t : b["tools"]) out.push_back(t["function"]["name"]);
    return out;
  };
  c.tool_exchange = [](const json& b) {
    const json& call = b["messages"][1]["tool_calls"][0];
    const json& result = b["messages"][2];
    return json{{"call_name", call["function"]["name"]},
                {"call_args", json::parse(call["function"]["arguments"].get<std::string>())},
                {"result_linked", result["role"] == "tool" && result["tool_call_id"] == call["id"]},
                {"result_text", text_of(result["content"])}};
  };
  return c;
}

// ------------------------------------------------------------- Anthropic ---

format_case anthropic_case() {
  format_case c;
  c.name = "anthropic";
  c.format = sb::wire_format::anthropic_messages;
  c.auth_header = "x-api-key";
  c.text_response =
      R"({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[{"type":"text","text":"Hello there!"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":5,"service_tier":"standard"}})";
  c.tool_call_response =
      R"({"id":"msg_01Aq9w938a90dw8q","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[{"type":"text","text":"I'll check the weather in Paris."},{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":30,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":12}})";
  c.length_response =
      R"({"id":"msg_02","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[{"type":"text","text":"Once upon"}],"stop_reason":"max_tokens","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":2}})";
  const std::string start =
      R"({"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":)";
  const std::string start_tail = R"(,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}})";
  c.text_stream = {
      named("message_start", start + "12" + start_tail),
      named("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"),
      named("ping", R"({"type": "ping"})"),
      named("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}})"),
      named("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}})"),
      named("content_block_stop", R"({"type":"content_block_stop","index":0})"),
      named("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}})"),
      named("message_stop", R"({"type":"message_stop"})")};
  c.tool_stream = {
      named("message_start", start + "30" + start_tail),
      named("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}})"),
      named("ping", R"({"type": "ping"})"),
      named("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":""}})"),
      named("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"ci"}})"),
      named("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"ty\": \"Paris\"}"}})"),
      named("content_block_stop", R"({"type":"content_block_stop","index":0})"),
      named("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":12}})"),
      named("message_stop", R"({"type":"message_stop"})")};
  c.overloaded_event = named("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  c.error_body = [](int status, const std::string& code, const std::string& message) {
    std::string type = code;
    if (type.empty()) {
      type = status == 429 ? "rate_limit_error" : status == 401 ? "authentication_error"
           : status == 403 ? "permission_error" : status == 404 ? "not_found_error"
           : status >= 500 ? "api_error" : "invalid_request_error";
    }
    return json{{"type", "error"}, {"error", {{"type", type}, {"message", message}}}}.dump();
  };
  c.context_too_long_body =
      R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208310 tokens > 200000 maximum"}})";
  c.own_rows = {{"529 overloaded", 529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
                 failure_kind::server_error}};
  c.system_text = [](const json& b) { return b.value("system", ""); };
  c.turns = [](const json& b) {
    std::vector<turn> out;
    for (const auto& m : b["messages"]) out.emplace_back(m["role"].get<std::string>(), text_of(m["content"]));
    return out;
  };
  c.sampling = [](const json& b) {
    return json{{"max_tokens", b.value("max_tokens", json())}, {"temperature", b.value("temperature", json())},
                {"top_p", b.value("top_p", json())}, {"stop", b.value("stop_sequences", json())}};
  };
  c.tool_names = [](const json& b) {
    std::vector<std::string> out;
    for (const auto& t : b["tools"]) out.push_back(t["name"]);
    return out;
  };
  c.tool_exchange = [](const json& b) {
    const json& call = b["messages"][1]["content"][0];
    const json& result = b["messages"][2]["content"][0];
    return json{{"call_name", call["name"]},
                {"call_args", call["input"]},
                {"result_linked", b["messages"][2]["role"] == "user" && result["type"] == "tool_result" &&
                                      result["tool_use_id"] == call["id"]},
                {"result_text", result.value("content", "")}};
  };
  return c;
}

// ---------------------------------------------------------------- Gemini ---

std::string gemini_chunk(const std::string& parts, const std::string& finish, const std::string& usage) {
  std::string candidate = R"({"content":{"parts":)" + parts + R"(,"role":"model"})";
  if (!finish.empty()) candidate += R"(,"finishReason":")" + finish + "\"";
  candidate += "}";
  return R"({"candidates":[)" + candidate + R"(],"usageMetadata":)" + usage +
         R"(,"modelVersion":"gemini-2.0-flash","responseId":"mPpGaLqRBJ2z1MkP9c2C6Ao"})";
}

format_case gemini_case() {
  format_case c;
  c.name = "gemini";
  c.format = sb::wire_format::gemini;
  c.auth_header = "x-goog-api-key";
  const std::string usage_12_5 =
      R"({"promptTokenCount":12,"candidatesTokenCount":5,"totalTokenCount":17,"promptTokensDetails":[{"modality":"TEXT","tokenCount":12}],"candidatesTokensDetails":[{"modality":"TEXT","tokenCount":5}]})";
  const std::string usage_30_12 = R"({"promptTokenCount":30,"candidatesTokenCount":12,"totalTokenCount":42})";
  c.text_response = gemini_chunk(R"([{"text":"Hello there!"}])", "STOP", usage_12_5);
  c.tool_call_response = gemini_chunk(R"([{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}])", "STOP", usage_30_12);
  c.length_response = gemini_chunk(R"([{"text":"Once upon"}])", "MAX_TOKENS",
                                   R"({"promptTokenCount":12,"candidatesTokenCount":2,"totalTokenCount":14})");
  c.text_stream = {data(gemini_chunk(R"([{"text":"Hel"}])", "", R"({"promptTokenCount":12,"totalTokenCount":12})")),
                   data(gemini_chunk(R"([{"text":"lo"}])", "STOP", usage_12_5))};
  c.tool_stream = {data(gemini_chunk(R"([{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}])", "STOP", usage_30_12))};
  c.overloaded_event = data(R"({"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}})");
  c.error_body = [](int status, const std::string& code, const std::string& message) {
    std::string st = code;
    if (st.empty()) {
      st = status == 429 ? "RESOURCE_EXHAUSTED" : status == 401 ? "UNAUTHENTICATED"
         : status == 403 ? "PERMISSION_DENIED" : status == 404 ? "NOT_FOUND"
         : status == 503 ? "UNAVAILABLE" : status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT";
    }
    return json{{"error", {{"code", status}, {"message", message}, {"status", st}}}}.dump();
  };
  c.context_too_long_body =
      R"({"error":{"code":400,"message":"The input token count (1187543) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}})";
  c.own_rows = {{"400 API_KEY_INVALID", 400,
                 R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}},{"@type":"type.googleapis.com/google.rpc.LocalizedMessage","locale":"en-US","message":"API key not valid. Please pass a valid API key."}]}})",
                 failure_kind::auth_invalid}};
  c.system_text = [](const json& b) {
    std::string s;
    for (const auto& p : b["systemInstruction"]["parts"]) s += p.value("text", "");
    return s;
  };
  c.turns = [](const json& b) {
    std::vector<turn> out;
    for (const auto& m : b["contents"]) {
      std::string text;
      for (const auto& p : m["parts"]) text += p.value("text", "");
      out.emplace_back(m["role"] == "model" ? "assistant" : m["role"].get<std::string>(), text);
    }
    return out;
  };
  c.sampling = [](const json& b) {
    json g = b.value("generationConfig", json::object());
    return json{{"max_tokens", g.value("maxOutputTokens", json())}, {"temperature", g.value("temperature", json())},
                {"top_p", g.value("topP", json())}, {"stop", g.value("stopSequences", json())}};
  };
  c.tool_names = [](const json& b) {
    std::vector<std::string> out;
    for (const auto& d : b["tools"][0]["functionDeclarations"]) out.push_back(d["name"]);
    return out;
  };
  c.tool_exchange = [](const json& b) {
    const json& call = b["contents"][1]["parts"][0]["functionCall"];
    const json& result = b["contents"][2]["parts"][0]["functionResponse"];
    return json{{"call_name", call["name"]},
                {"call_args", call["args"]},
                {"result_linked", b["contents"][2]["role"] == "user" && result["name"] == call["name"]},
                {"result_text", result["response"].dump()}};
  };
  return c;
}

const std::vector<format_case>& all_formats() {
  static const std::vector<format_case> formats = {openai_case(), anthropic_case(), gemini_case()};
  return formats;
}

std::unique_ptr<sb::providers::adapter> adapter_for(const format_case& c) {
  sb::provider_config p;
  p.id = c.name;
  p.format = c.format;
  return sb::providers::make_adapter(p);
}

json body_of(const sb::providers::encoded_request& r) { return json::parse(r.body); }

json weather_tool() {
  return json::parse(R"({"type":"function","function":{"name":"get_weather","description":"Current weather in a city",
    "parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name"}},"required":["city"],"additionalProperties":false}}})");
}

json decoded(const sb::providers::adapter& a, const std::string& body) {
  auto result = a.decode_response(body, "the-model");
  if (auto* err = std::get_if<std::string>(&result)) FAIL("decode failed: " << *err);
  return std::get<sb::providers::decoded_completion>(result).parsed();
}

// What a client reassembles from a stream, checking every chunk's shape on the way.
struct stream_result {
  std::string content;
  std::map<int, json> tool_calls;  // index -> {id, name, arguments}
  std::string finish_reason;
  std::string first_role;
  std::vector<json> usage_chunks;
  bool done = false;
  sb::providers::token_usage usage;
  std::size_t chunks = 0;
};

stream_result run_stream(const sb::providers::adapter& a, const std::vector<sse_event>& events, bool include_usage) {
  auto decoder = a.make_stream_decoder("the-model", "chatcmpl-gw1", 1727000000, include_usage);
  stream_result r;
  std::vector<json> out;
  for (const auto& ev : events) {
    auto f = decoder->on_event(ev, out);
    REQUIRE_FALSE(f.has_value());
  }
  for (const auto& chunk : out) {
    ++r.chunks;
    REQUIRE(chunk["object"] == "chat.completion.chunk");
    REQUIRE(chunk["id"].is_string());
    REQUIRE_FALSE(chunk["id"].get<std::string>().empty());
    REQUIRE(chunk["created"].is_number_integer());
    REQUIRE(chunk["model"].is_string());
    REQUIRE(chunk["choices"].is_array());
    if (chunk["choices"].empty()) {
      REQUIRE(chunk["usage"].is_object());
      r.usage_chunks.push_back(chunk);
      continue;
    }
    REQUIRE(r.usage_chunks.empty());  // the usage chunk is the last
    const json& choice = chunk["choices"][0];
    REQUIRE(choice["index"] == 0);
    REQUIRE(choice["delta"].is_object());
    const json& delta = choice["delta"];
    if (r.chunks == 1) r.first_role = delta.value("role", "");
    if (delta.contains("content") && delta["content"].is_string()) r.content += delta["content"].get<std::string>();
    if (delta.contains("tool_calls")) {
      for (const auto& tc : delta["tool_calls"]) {
        REQUIRE(tc["index"].is_number_integer());
        json& acc = r.tool_calls[tc["index"].get<int>()];
        if (tc.contains("id")) {
          REQUIRE(tc["type"] == "function");
          acc["id"] = tc["id"];
          acc["name"] = tc["function"]["name"];
        }
        std::string args = acc.value("arguments", "");
        if (tc.contains("function") && tc["function"].contains("arguments"))
          args += tc["function"]["arguments"].get<std::string>();
        acc["arguments"] = args;
      }
    }
    if (!choice["finish_reason"].is_null()) {
      REQUIRE(r.finish_reason.empty());  // exactly one finish
      r.finish_reason = choice["finish_reason"];
    }
  }
  r.done = decoder->done();
  r.usage = decoder->usage();
  return r;
}

const json conversation_request = json::parse(R"({
  "model": "auto",
  "messages": [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello! How can I help?"},
    {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]}
  ],
  "max_tokens": 100, "temperature": 0.5, "top_p": 0.9, "stop": ["END"]
})");

}  // namespace

TEST_CASE("conformance: every adapter encodes a plain request with auth and JSON") {
  for (const auto& c : all_formats()) {
    INFO(c.name);
    auto a = adapter_for(c);
    json request = {{"model", "auto"}, {"messages", {{{"role", "user"}, {"content", "Hi"}}}}};
    auto enc = a->encode(request, "m-1", "sk-secret-1234", false);
    CHECK_FALSE(enc.path.empty());
    CHECK(enc.path.front() == '/');
    bool has_key = false, has_json = false;
    for (const auto& [k, v] : enc.headers) {
      if (k == c.auth_header && v.find("sk-secret-1234") != std::string::npos) has_key = true;
      if (k == "Content-Type" && v == "application/json") has_json = true;
    }
    CHECK(has_key);
    CHECK(has_json);
    json body = body_of(enc);
    auto turns = c.turns(body);
    REQUIRE(turns.size() == 1);
    CHECK(turns[0] == turn{"user", "Hi"});
  }
}

TEST_CASE("conformance: system prompt - multi-turn and sampling survive encoding") {
  for (const auto& c : all_formats()) {
    INFO(c.name);
    json body = body_of(adapter_for(c)->encode(conversation_request, "m-1", "k", false));
    CHECK(c.system_text(body) == "Be brief.");
    auto turns = c.turns(body);
    REQUIRE(turns.size() == 3);
    CHECK(turns[0] == turn{"user", "Hi"});
    CHECK(turns[1] == turn{"assistant", "Hello! How can I help?"});
    CHECK(turns[2] == turn{"user", "Weather in Paris?"});
    json s = c.sampling(body);
    CHECK(s["max_tokens"] == 100);
    CHECK(s["temperature"] == 0.5);
    CHECK(s["top_p"] == 0.9);
    CHECK(s["stop"] == json::array({"END"}));
  }
}

TEST_CASE("conformance: gateway-only fields never reach a provider") {
  json request = conversation_request;
  request["gateway_tools"] = {"refund_order"};
  request["prompt"] = {{"id", "support"}};
  request["gateway"] = {{"x", 1}};
  for (const auto& c : all_formats()) {
    INFO(c.name);
    std::string body = adapter_for(c)->encode(request, "m-1", "k", false).body;
    CHECK(body.find("gateway") == std::string::npos);
    CHECK(body.find("refund_order") == std::string::npos);
    CHECK(body.find("\"prompt\"") == std::string::npos);
  }
}

TEST_CASE("conformance: tool definitions are offered") {
  json request = conversation_request;
  request["tools"] = json::array({weather_tool()});
  request["tool_choice"] = "auto";
  for (const auto& c : all_formats()) {
    INFO(c.name);
    json body = body_of(adapter_for(c)->encode(request, "m-1", "k", false));
    CHECK(c.tool_names(body) == std::vector<std::string>{"get_weather"});
  }
}

TEST_CASE("conformance: a tool call round trip: the call and its result stay linked") {
  json request = json::parse(R"({"model":"auto","messages":[
    {"role":"user","content":"Weather in Paris?"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_Qa1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
    {"role":"tool","tool_call_id":"call_Qa1","content":"{\"temp_c\":18}"}]})");
  request["tools"] = json::array({weather_tool()});
  for (const auto& c : all_formats()) {
    INFO(c.name);
    json body = body_of(adapter_for(c)->encode(request, "m-1", "k", false));
    json ex = c.tool_exchange(body);
    CHECK(ex["call_name"] == "get_weather");
    CHECK(ex["call_args"] == json{{"city", "Paris"}});
    CHECK(ex["result_linked"] == true);
    CHECK(ex["result_text"].get<std::string>().find("18") != std::string::npos);
  }
}

TEST_CASE("conformance: a plain answer decodes to an OpenAI chat.completion with usage") {
  for (const auto& c : all_formats()) {
    INFO(c.name);
    auto a = adapter_for(c);
    auto result = a->decode_response(c.text_response, "the-model");
    REQUIRE(std::holds_alternative<sb::providers::decoded_completion>(result));
    auto& d = std::get<sb::providers::decoded_completion>(result);
    const json& cc = d.parsed();
    CHECK(cc["object"] == "chat.completion");
    CHECK(cc["id"].is_string());
    CHECK(cc["created"].is_number_integer());
    CHECK(cc["model"].is_string());
    REQUIRE(cc["choices"].size() == 1);
    CHECK(cc["choices"][0]["index"] == 0);
    CHECK(cc["choices"][0]["message"]["role"] == "assistant");
    CHECK(cc["choices"][0]["message"]["content"] == "Hello there!");
    CHECK(cc["choices"][0]["finish_reason"] == "stop");
    CHECK(cc["usage"]["prompt_tokens"] == 12);
    CHECK(cc["usage"]["completion_tokens"] == 5);
    CHECK(cc["usage"]["total_tokens"] == 17);
    CHECK(d.usage.reported);
    CHECK(d.usage.prompt_tokens == 12);
    CHECK(d.usage.completion_tokens == 5);
  }
}

TEST_CASE("conformance: a tool call decodes to OpenAI tool_calls") {
  for (const auto& c : all_formats()) {
    INFO(c.name);
    json cc = decoded(*adapter_for(c), c.tool_call_response);
    const json& msg = cc["choices"][0]["message"];
    REQUIRE(msg["tool_calls"].size() == 1);
    const json& call = msg["tool_calls"][0];
    CHECK(call["type"] == "function");
    CHECK_FALSE(call["id"].get<std::string>().empty());
    CHECK(call["function"]["name"] == "get_weather");
    REQUIRE(call["function"]["arguments"].is_string());
    CHECK(json::parse(call["function"]["arguments"].get<std::string>()) == json{{"city", "Paris"}});
    CHECK(cc["choices"][0]["finish_reason"] == "tool_calls");
    CHECK(cc["usage"]["prompt_tokens"] == 30);
    CHECK(cc["usage"]["completion_tokens"] == 12);
  }
}

TEST_CASE("conformance: a max-tokens cut finishes with length") {
  for (const auto& c : all_formats()) {
    INFO(c.name);
    json cc = decoded(*adapter_for(c), c.length_response);
    CHECK(cc["choices"][0]["finish_reason"] == "length");
    CHECK(cc["choices"][0]["message"]["content"] == "Once upon");
  }
}

TEST_CASE("conformance: a body that is not an answer is an error value - not a throw") {
  for (const auto& c : all_formats()) {
    INFO(c.name);
    auto a = adapter_for(c);
    for (std::string bad : {"", "not json", "[]", "{}", "{\"choices\":42}", R"({"candidates":[],"content":7})"}) {
      INFO(bad);
      auto result = a->decode_response(bad, "m");
      CHECK(std::holds_alternative<std::string>(result));
    }
  }
}

TEST_CASE("conformance: streamed text arrives as OpenAI chunks") {
  for (const auto& c : all_formats()) {
    for (bool include_usage : {false, true}) {
      INFO(c.name << " include_usage=" << include_usage);
      auto r = run_stream(*adapter_for(c), c.text_stream, include_usage);
      CHECK(r.first_role == "assistant");
      CHECK(r.content == "Hello");
      CHECK(r.finish_reason == "stop");
      CHECK(r.done);
      CHECK(r.usage.reported);
      CHECK(r.usage.prompt_tokens == 12);
      CHECK(r.usage.completion_tokens == 5);
      if (include_usage) {
        REQUIRE(r.usage_chunks.size() == 1);
        CHECK(r.usage_chunks[0]["usage"]["prompt_tokens"] == 12);
        CHECK(r.usage_chunks[0]["usage"]["completion_tokens"] == 5);
        CHECK(r.usage_chunks[0]["usage"]["total_tokens"] == 17);
      } else {
        CHECK(r.usage_chunks.empty());
      }
    }
  }
}

TEST_CASE("conformance: streamed tool calls reassemble by index") {
  for (const auto& c : all_formats()) {
    INFO(c.name);
    auto r = run_stream(*adapter_for(c), c.tool_stream, true);
    REQUIRE(r.tool_calls.size() == 1);
    const json& call = r.tool_calls[0];
    CHECK_FALSE(call["id"].get<std::string>().empty());
    CHECK(call["name"] == "get_weather");
    CHECK(json::parse(call["arguments"].get<std::string>()) == json{{"city", "Paris"}});
    CHECK(r.finish_reason == "tool_calls");
    CHECK(r.done);
    CHECK(r.usage.prompt_tokens == 30);
    CHECK(r.usage.completion_tokens == 12);
  }
}

TEST_CASE("conformance: an error inside the stream is a failure") {
  for (const auto& c : all_formats()) {
    INFO(c.name);
    auto decoder = adapter_for(c)->make_stream_decoder("m", "chatcmpl-gw1", 1);
    std::vector<json> out;
    decoder->on_event(c.text_stream.front(), out);
    auto f = decoder->on_event(c.overloaded_event, out);
    REQUIRE(f.has_value());
    CHECK(f->kind == failure_kind::server_error);
    CHECK_FALSE(f->message.empty());
    CHECK_FALSE(decoder->done());
  }
}

TEST_CASE("conformance: classify follows SPEC section 5's table") {
  for (const auto& c : all_formats()) {
    std::vector<classify_row> rows = {
        {"429 rate limited", 429, c.error_body(429, "", "Rate limit reached, try again in 2s"), failure_kind::rate_limited},
        {"402 payment required", 402, c.error_body(402, "", "Payment required"), failure_kind::out_of_credit},
        {"500", 500, c.error_body(500, "", "Internal error"), failure_kind::server_error},
        {"502", 502, "<html><body>502 Bad Gateway</body></html>", failure_kind::server_error},
        {"503", 503, c.error_body(503, "", "Service unavailable"), failure_kind::server_error},
        {"504", 504, "", failure_kind::server_error},
        {"401", 401, c.error_body(401, "", "Invalid API key"), failure_kind::auth_invalid},
        {"403", 403, c.error_body(403, "", "Forbidden"), failure_kind::auth_invalid},
        {"404 model", 404, c.error_body(404, "", "model: nope-1 not found"), failure_kind::target_unavailable},
        {"400 context length", 400, c.context_too_long_body, failure_kind::target_unavailable},
        {"400 other", 400, c.error_body(400, "", "messages: roles must alternate"), failure_kind::client_error},
        {"422", 422, c.error_body(422, "", "Unprocessable"), failure_kind::client_error},
        {"other 5xx", 507, c.error_body(507, "", "Insufficient storage"), failure_kind::server_error},
    };
    rows.insert(rows.end(), c.own_rows.begin(), c.own_rows.end());
    auto a = adapter_for(c);
    for (const auto& row : rows) {
      INFO(c.name << ": " << row.what);
      auto f = a->classify(row.status, row.body);
      CHECK(f.kind == row.expected);
      CHECK(f.status == row.status);
      CHECK_FALSE(f.message.empty());
    }
  }
}

TEST_CASE("conformance: classify reads the provider's code and message") {
  for (const auto& c : all_formats()) {
    INFO(c.name);
    auto f = adapter_for(c)->classify(429, c.error_body(429, "", "Slow down please"));
    CHECK(f.message == "Slow down please");
    CHECK_FALSE(f.code.empty());
  }
}
