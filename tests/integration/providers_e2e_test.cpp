// Every provider of SPEC section 2, through the whole gateway against the
// fake speaking its wire format: a plain answer, a stream, and a tool call,
// whole and streamed. The client always gets OpenAI's shapes; the fake's
// record shows what went upstream: the provider's path, auth and a body in
// its own format.

#include <functional>
#include <string>
#include <vector>

#include "tests/integration/gateway_fixture.hpp"

using namespace sb::testing;
using nlohmann::json;
using sb::fakes::fake_provider;
using sb::fakes::recorded_request;

namespace {

const std::string reply_text = "The quick brown fox jumps";

struct provider_row {
  std::string id;
  std::string model;  // the provider's default model (SPEC section 2 catalog)
  std::string path;
  std::string stream_path;
  std::vector<std::pair<std::string, std::string>> auth;  // headers the upstream request must carry
  // Checks the translated body; `tools` says whether the client offered tools.
  std::function<void(const json& body, bool stream, bool tools)> check_body;
};

// The client's request: a system prompt, max_tokens and (optionally) one tool.
json client_request(bool stream, bool tools) {
  json body = {{"model", "auto"},
               {"max_tokens", 77},
               {"messages", {{{"role", "system"}, {"content", "You are terse."}},
                             {{"role", "user"}, {"content", "What is the weather in Paris?"}}}}};
  if (stream) body["stream"] = true;
  if (tools) {
    body["tools"] = {{{"type", "function"},
                      {"function", {{"name", "get_weather"},
                                    {"description", "Weather for a city"},
                                    {"parameters", {{"type", "object"},
                                                    {"properties", {{"city", {{"type", "string"}}}}},
                                                    {"required", {"city"}}}}}}}};
  }
  return body;
}

const json& client_tool_parameters() {
  static const json p = client_request(false, true)["tools"][0]["function"]["parameters"];
  return p;
}

void check_openai_body(const std::string& model, const json& b, bool stream, bool tools) {
  CHECK(b["model"] == model);
  CHECK(b["max_tokens"] == 77);
  CHECK(b["messages"][0] == json({{"role", "system"}, {"content", "You are terse."}}));
  CHECK(b["messages"][1]["role"] == "user");
  CHECK(b.value("stream", false) == stream);
  if (stream) CHECK(b["stream_options"]["include_usage"] == true);
  if (tools) CHECK(b["tools"] == client_request(false, true)["tools"]);
}

provider_row openai_format(const std::string& id, const std::string& model) {
  return {id, model, "/v1/chat/completions", "/v1/chat/completions",
          {{"authorization", "Bearer sk-" + id + "-1"}},
          [model](const json& b, bool stream, bool tools) { check_openai_body(model, b, stream, tools); }};
}

std::vector<provider_row> rows() {
  return {
      openai_format("openrouter", "openai/gpt-4o-mini"),
      {"anthropic", "claude-3-5-haiku-latest", "/v1/messages", "/v1/messages",
       {{"x-api-key", "sk-anthropic-1"}, {"anthropic-version", "2023-06-01"}},
       [](const json& b, bool stream, bool tools) {
         CHECK(b["model"] == "claude-3-5-haiku-latest");
         CHECK(b["system"] == "You are terse.");
         CHECK(b["max_tokens"] == 77);
         REQUIRE(b["messages"].size() == 1);  // the system message moved out of the turns
         CHECK(b["messages"][0]["role"] == "user");
         CHECK(b.value("stream", false) == stream);
         if (tools) {
           CHECK(b["tools"][0]["name"] == "get_weather");
           CHECK(b["tools"][0]["description"] == "Weather for a city");
           CHECK(b["tools"][0]["input_schema"] == client_tool_parameters());
         }
       }},
      openai_format("openai", "gpt-4o-mini"),
      {"google", "gemini-2.0-flash", "/v1beta/models/gemini-2.0-flash:generateContent",
       "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
       {{"x-goog-api-key", "sk-google-1"}},
       [](const json& b, bool, bool tools) {
         CHECK(b["systemInstruction"]["parts"][0]["text"] == "You are terse.");
         REQUIRE(b["contents"].size() == 1);
         CHECK(b["contents"][0]["role"] == "user");
         CHECK(b["contents"][0]["parts"][0]["text"] == "What is the weather in Paris?");
         CHECK(b["generationConfig"]["maxOutputTokens"] == 77);
         if (tools) {
           auto& d = b["tools"][0]["functionDeclarations"][0];
           CHECK(d["name"] == "get_weather");
           CHECK(d["description"] == "Weather for a city");
           CHECK(d["parameters"]["properties"].contains("city"));
         }
       }},
      openai_format("deepseek", "deepseek-chat"),
      openai_format("huggingface", "meta-llama/Llama-3.1-8B-Instruct"),
  };
}

struct gateway_for {
  fake_provider fake;
  running_gateway gw;
  explicit gateway_for(const provider_row& row)
      : fake(options()), gw(fast_config(), fake_env(fake.base_url(), {row.id})) {}
  static sb::fakes::fake_options options() {
    sb::fakes::fake_options o;
    o.text = reply_text;
    o.chunks = 5;
    return o;
  }
};

void check_upstream(const provider_row& row, const recorded_request& req, bool stream, bool tools) {
  CHECK(req.target == (stream ? row.stream_path : row.path));
  for (auto& [name, value] : row.auth) CHECK(req.header(name) == value);
  row.check_body(json::parse(req.body), stream, tools);
}

void check_headers(const provider_row& row, const http_response& r) {
  CHECK(r.header("x-gateway-provider") == row.id);
  CHECK(r.header("x-gateway-model") == row.model);
  CHECK(r.header("x-gateway-attempts") == "1");
}

// The streamed chunks as JSON, [DONE] checked and dropped.
std::vector<json> chunks_of(const std::string& body) {
  auto data = sse_data(body);
  REQUIRE(!data.empty());
  CHECK(data.back() == "[DONE]");
  std::vector<json> out;
  for (auto& d : data)
    if (d != "[DONE]") out.push_back(json::parse(d));
  return out;
}

std::string last_finish_reason(const std::vector<json>& chunks) {
  std::string reason;
  for (auto& c : chunks)
    for (auto& choice : c["choices"])
      if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) reason = choice["finish_reason"];
  return reason;
}

sb::fakes::scripted_reply weather_call() {
  sb::fakes::scripted_reply r;
  r.tool_call = sb::fakes::tool_call{"get_weather", R"({"city":"Paris"})"};
  return r;
}

}  // namespace

TEST_CASE("every provider: a whole answer in OpenAI's shape", "[providers][e2e]") {
  for (auto& row : rows()) {
    INFO(row.id);
    gateway_for g(row);
    auto r = g.gw.chat(client_request(false, false));
    INFO("answer: " << r.body);
    REQUIRE(r.status == 200);
    check_headers(row, r);
    auto j = json::parse(r.body);
    CHECK(j["object"] == "chat.completion");
    CHECK(j["choices"][0]["message"]["role"] == "assistant");
    CHECK(j["choices"][0]["message"]["content"] == reply_text);
    CHECK(j["choices"][0]["finish_reason"] == "stop");
    CHECK(j["usage"]["prompt_tokens"].get<int>() > 0);
    CHECK(j["usage"]["completion_tokens"] == 5);
    auto got = g.fake.received();
    REQUIRE(got.size() == 1);
    check_upstream(row, got[0], false, false);
  }
}

TEST_CASE("every provider: a stream of OpenAI chunks", "[providers][e2e][stream]") {
  for (auto& row : rows()) {
    INFO(row.id);
    gateway_for g(row);
    auto r = g.gw.chat(client_request(true, false));
    INFO("answer: " << r.body);
    REQUIRE(r.status == 200);
    check_headers(row, r);
    CHECK(r.header("content-type") == "text/event-stream");
    auto chunks = chunks_of(r.body);
    REQUIRE(chunks.size() >= 5);  // one per content chunk at least: streamed, not buffered
    for (auto& c : chunks) CHECK(c["object"] == "chat.completion.chunk");
    CHECK(streamed_text(r.body) == reply_text);
    CHECK(last_finish_reason(chunks) == "stop");
    auto got = g.fake.received();
    REQUIRE(got.size() == 1);
    check_upstream(row, got[0], true, false);
  }
}

TEST_CASE("every provider: a whole tool call as OpenAI tool_calls", "[providers][e2e][tools]") {
  for (auto& row : rows()) {
    INFO(row.id);
    gateway_for g(row);
    g.fake.script(weather_call());
    auto r = g.gw.chat(client_request(false, true));
    INFO("answer: " << r.body);
    REQUIRE(r.status == 200);
    check_headers(row, r);
    auto choice = json::parse(r.body)["choices"][0];
    CHECK(choice["finish_reason"] == "tool_calls");
    REQUIRE(choice["message"]["tool_calls"].size() == 1);
    auto& call = choice["message"]["tool_calls"][0];
    CHECK(call["type"] == "function");
    CHECK(call["id"].is_string());
    CHECK(call["function"]["name"] == "get_weather");
    CHECK(json::parse(call["function"]["arguments"].get<std::string>()) == json({{"city", "Paris"}}));
    auto got = g.fake.received();
    REQUIRE(got.size() == 1);
    check_upstream(row, got[0], false, true);
  }
}

TEST_CASE("every provider: a streamed tool call as OpenAI tool_call deltas", "[providers][e2e][tools][stream]") {
  for (auto& row : rows()) {
    INFO(row.id);
    gateway_for g(row);
    g.fake.script(weather_call());
    auto r = g.gw.chat(client_request(true, true));
    INFO("answer: " << r.body);
    REQUIRE(r.status == 200);
    check_headers(row, r);
    auto chunks = chunks_of(r.body);
    std::string name, id, arguments;
    int argument_deltas = 0;
    for (auto& c : chunks) {
      CHECK(c["object"] == "chat.completion.chunk");
      for (auto& choice : c["choices"]) {
        if (!choice.contains("delta") || !choice["delta"].contains("tool_calls")) continue;
        for (auto& tc : choice["delta"]["tool_calls"]) {
          CHECK(tc.value("index", -1) == 0);
          if (tc.contains("id")) id += tc["id"].get<std::string>();
          auto& f = tc["function"];
          if (f.contains("name")) name += f["name"].get<std::string>();
          if (f.contains("arguments") && !f["arguments"].get<std::string>().empty()) {
            arguments += f["arguments"].get<std::string>();
            ++argument_deltas;
          }
        }
      }
    }
    CHECK(name == "get_weather");
    CHECK(!id.empty());
    // OpenAI and Anthropic stream the arguments in pieces; Gemini sends a
    // functionCall whole.
    CHECK(argument_deltas >= (row.id == "google" ? 1 : 2));
    REQUIRE(!arguments.empty());
    CHECK(json::parse(arguments) == json({{"city", "Paris"}}));
    CHECK(last_finish_reason(chunks) == "tool_calls");
    auto got = g.fake.received();
    REQUIRE(got.size() == 1);
    check_upstream(row, got[0], true, true);
  }
}
