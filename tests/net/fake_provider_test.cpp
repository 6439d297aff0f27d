// The fake providers the integration tests and the benchmark stand on: each
// wire format's default answers, scripting, failure injection and recording,
// checked with a plain Beast client written here (not the gateway's).

#include <catch2/catch.hpp>

#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "tests/fakes/fake_provider.hpp"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using namespace sb::fakes;
using namespace std::chrono_literals;

struct reply {
  int status = 0;
  http::response<http::string_body> msg;
  beast::error_code ec;
  json body() const { return json::parse(msg.body()); }
  std::string header(const char* name) const { return std::string(msg[name]); }
};

// One kept-alive connection to the fake.
struct client {
  net::io_context ioc;
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;

  explicit client(unsigned short port) { socket.connect({net::ip::make_address("127.0.0.1"), port}); }

  void send(const std::string& target, const std::string& body, const std::vector<std::pair<std::string, std::string>>& headers,
            http::verb verb = http::verb::post) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [n, v] : headers) req.set(n, v);
    req.body() = body;
    req.prepare_payload();
    http::write(socket, req);
  }

  reply receive() {
    reply r;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 24);
    http::read(socket, buffer, parser, r.ec);
    r.msg = parser.release();
    r.status = static_cast<int>(r.msg.result_int());
    return r;
  }

  reply call(const std::string& target, const std::string& body,
             const std::vector<std::pair<std::string, std::string>>& headers, http::verb verb = http::verb::post) {
    send(target, body, headers, verb);
    return receive();
  }
};

const std::vector<std::pair<std::string, std::string>> openai_auth{{"authorization", "Bearer sk-test-1"}};
const std::vector<std::pair<std::string, std::string>> anthropic_auth{{"x-api-key", "ant-key"},
                                                                      {"anthropic-version", "2023-06-01"}};
const std::vector<std::pair<std::string, std::string>> gemini_auth{{"x-goog-api-key", "goog-key"}};

std::string openai_body(bool stream, bool tools = false) {
  json b{{"model", "gpt-4o-mini"}, {"messages", {{{"role", "user"}, {"content", "say three words"}}}}};
  if (stream) b["stream"] = true, b["stream_options"] = {{"include_usage", true}};
  if (tools) b["tools"] = json::array({{{"type", "function"}, {"function", {{"name", "get_weather"}}}}});
  return b.dump();
}

std::string anthropic_body(bool stream, bool tools = false) {
  json b{{"model", "claude-3-5-haiku"}, {"max_tokens", 100}, {"system", "be brief"},
         {"messages", {{{"role", "user"}, {"content", "say three words"}}}}};
  if (stream) b["stream"] = true;
  if (tools) b["tools"] = json::array({{{"name", "get_weather"}, {"input_schema", {{"type", "object"}}}}});
  return b.dump();
}

std::string gemini_body(bool tools = false) {
  json b{{"contents", {{{"role", "user"}, {"parts", {{{"text", "say three words"}}}}}}}};
  if (tools) b["tools"] = json::array({{{"functionDeclarations", {{{"name", "get_weather"}}}}}});
  return b.dump();
}

struct sse_event {
  std::string event;
  std::string data;
};

// Splits an SSE body into events, accepting LF or CRLF line ends.
std::vector<sse_event> parse_sse(std::string body) {
  std::string lf;
  for (std::size_t i = 0; i < body.size(); ++i)
    if (!(body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n')) lf += body[i];
  std::vector<sse_event> out;
  std::size_t pos = 0;
  while (pos < lf.size()) {
    auto end = lf.find("\n\n", pos);
    if (end == std::string::npos) end = lf.size();
    sse_event ev;
    std::size_t line_start = pos;
    while (line_start < end) {
      auto line_end = std::min(lf.find('\n', line_start), end);
      auto line = lf.substr(line_start, line_end - line_start);
      if (line.rfind("event: ", 0) == 0) ev.event = line.substr(7);
      if (line.rfind("data: ", 0) == 0) ev.data = line.substr(6);
      line_start = line_end + 1;
    }
    if (!ev.data.empty() || !ev.event.empty()) out.push_back(ev);
    pos = end + 2;
  }
  return out;
}

}  // namespace

TEST_CASE("openai format: default answer - streamed and not", "[fakes]") {
  fake_options options;
  options.text = "one two three four five six";
  options.chunks = 3;
  fake_provider fake(options);
  client c(fake.port());

  auto r = c.call("/v1/chat/completions", openai_body(false), openai_auth);
  REQUIRE(r.status == 200);
  auto b = r.body();
  CHECK(b["object"] == "chat.completion");
  CHECK(b["model"] == "gpt-4o-mini");
  CHECK(b["choices"][0]["message"]["content"] == options.text);
  CHECK(b["choices"][0]["finish_reason"] == "stop");
  CHECK(b["usage"]["prompt_tokens"] == 3);
  CHECK(b["usage"]["completion_tokens"] == 3);

  r = c.call("/chat/completions", openai_body(true), openai_auth);
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type").rfind("text/event-stream", 0) == 0);
  auto events = parse_sse(r.msg.body());
  REQUIRE(events.size() == 7);  // role, 3 content, finish, usage, [DONE]
  CHECK(json::parse(events[0].data)["choices"][0]["delta"]["role"] == "assistant");
  std::string text;
  for (int i = 1; i <= 3; ++i) {
    auto chunk = json::parse(events[i].data);
    CHECK(chunk["object"] == "chat.completion.chunk");
    text += chunk["choices"][0]["delta"]["content"].get<std::string>();
  }
  CHECK(text == options.text);
  CHECK(json::parse(events[4].data)["choices"][0]["finish_reason"] == "stop");
  auto usage = json::parse(events[5].data);
  CHECK(usage["choices"].empty());
  CHECK(usage["usage"]["completion_tokens"] == 3);
  CHECK(events[6].data == "[DONE]");
  CHECK(fake.connections_accepted() == 1);  // kept alive

  r = c.call("/v1/chat/completions", openai_body(false), {});
  CHECK(r.status == 401);
  CHECK(r.body()["error"]["type"] == "invalid_request_error");
}

TEST_CASE("anthropic format: headers checked - message and event stream", "[fakes]") {
  fake_provider fake;
  client c(fake.port());

  auto r = c.call("/v1/messages", anthropic_body(false), {{"anthropic-version", "2023-06-01"}});
  CHECK(r.status == 401);
  CHECK(r.body()["type"] == "error");
  CHECK(r.body()["error"]["type"] == "authentication_error");

  r = c.call("/v1/messages", anthropic_body(false), anthropic_auth);
  REQUIRE(r.status == 200);
  auto b = r.body();
  CHECK(b["type"] == "message");
  CHECK(b["model"] == "claude-3-5-haiku");
  CHECK(b["content"][0]["type"] == "text");
  CHECK(b["stop_reason"] == "end_turn");
  CHECK(b["usage"]["input_tokens"] == 5);  // system + user words
  CHECK(b["usage"]["output_tokens"] == 8);

  scripted_reply tool;
  tool.tool_call = sb::fakes::tool_call{"get_weather", R"({"city": "Paris", "unit": "celsius"})"};
  tool.chunks = 3;
  fake.script(tool);
  r = c.call("/v1/messages", anthropic_body(true, true), anthropic_auth);
  REQUIRE(r.status == 200);
  auto events = parse_sse(r.msg.body());
  std::vector<std::string> names;
  std::string partial;
  for (const auto& ev : events) {
    names.push_back(ev.event);
    auto d = json::parse(ev.data);
    CHECK(d["type"] == ev.event);
    if (ev.event == "content_block_delta" && d["delta"]["type"] == "input_json_delta")
      partial += d["delta"]["partial_json"].get<std::string>();
    if (ev.event == "message_delta") CHECK(d["delta"]["stop_reason"] == "tool_use");
  }
  CHECK(names == std::vector<std::string>{"message_start", "content_block_start", "ping", "content_block_delta",
                                          "content_block_delta", "content_block_delta", "content_block_delta",
                                          "content_block_stop", "message_delta", "message_stop"});
  CHECK(json::parse(partial) == json{{"city", "Paris"}, {"unit", "celsius"}});
}

TEST_CASE("gemini format: key required - generateContent and SSE stream", "[fakes]") {
  fake_options options;
  options.chunks = 4;
  fake_provider fake(options);
  client c(fake.port());
  const std::string base = "/v1beta/models/gemini-2.0-flash";

  CHECK(c.call(base + ":generateContent", gemini_body(), {}).status == 403);

  auto r = c.call(base + ":generateContent", gemini_body(), gemini_auth);
  REQUIRE(r.status == 200);
  auto b = r.body();
  CHECK(b["candidates"][0]["content"]["parts"][0]["text"] == options.text);
  CHECK(b["candidates"][0]["finishReason"] == "STOP");
  CHECK(b["usageMetadata"]["promptTokenCount"] == 3);
  CHECK(b["usageMetadata"]["candidatesTokenCount"] == 4);
  CHECK(b["modelVersion"] == "gemini-2.0-flash");

  r = c.call(base + ":streamGenerateContent?alt=sse", gemini_body(), gemini_auth);
  REQUIRE(r.status == 200);
  CHECK(r.msg.body().find("\r\n\r\n") != std::string::npos);  // Google frames with CRLF
  auto events = parse_sse(r.msg.body());
  REQUIRE(events.size() == 4);
  std::string text;
  for (const auto& ev : events) text += json::parse(ev.data)["candidates"][0]["content"]["parts"][0]["text"].get<std::string>();
  CHECK(text == options.text);
  CHECK(json::parse(events.back().data)["candidates"][0]["finishReason"] == "STOP");

  scripted_reply tool;
  tool.tool_call = sb::fakes::tool_call{"get_weather", R"({"city":"Paris"})"};
  fake.script(tool);
  r = c.call(base + ":generateContent", gemini_body(true), gemini_auth);
  CHECK(r.body()["candidates"][0]["content"]["parts"][0]["functionCall"]["args"]["city"] == "Paris");

  fake.script(error_reply(wire_format::gemini, 400, "API_KEY_INVALID"));
  r = c.call(base + ":generateContent", gemini_body(), gemini_auth);
  CHECK(r.status == 400);
  CHECK(r.body()["error"]["details"][0]["reason"] == "API_KEY_INVALID");
}

TEST_CASE("scripts: status with headers - per-key before FIFO - tool call deltas", "[fakes]") {
  fake_provider fake;
  client c(fake.port());

  auto limited = error_reply(wire_format::openai, 429);
  limited.headers.emplace_back("retry-after", "7");
  fake.script(limited);
  fake.script(error_reply(wire_format::openai, 429, "insufficient_quota"));
  fake.script_for_key("sk-test-1", error_reply(wire_format::openai, 401));

  auto r = c.call("/v1/chat/completions", openai_body(false), openai_auth);
  CHECK(r.status == 401);
  CHECK(r.body()["error"]["code"] == "invalid_api_key");
  r = c.call("/v1/chat/completions", openai_body(false), openai_auth);
  CHECK(r.status == 429);
  CHECK(r.header("retry-after") == "7");
  CHECK(r.body()["error"]["code"] == "rate_limit_exceeded");
  r = c.call("/v1/chat/completions", openai_body(false), openai_auth);
  CHECK(r.body()["error"]["code"] == "insufficient_quota");

  scripted_reply tool;
  tool.tool_call = sb::fakes::tool_call{"get_weather", R"({"city": "Paris"})"};
  tool.chunks = 2;
  fake.script(tool);
  r = c.call("/v1/chat/completions", openai_body(true, true), openai_auth);
  auto events = parse_sse(r.msg.body());
  std::string arguments;
  std::string finish;
  for (const auto& ev : events) {
    if (ev.data == "[DONE]") continue;
    auto d = json::parse(ev.data);
    if (d["choices"].empty()) continue;
    const auto& choice = d["choices"][0];
    if (choice["delta"].contains("tool_calls"))
      arguments += choice["delta"]["tool_calls"][0]["function"]["arguments"].get<std::string>();
    if (choice["finish_reason"].is_string()) finish = choice["finish_reason"];
  }
  CHECK(arguments == R"({"city": "Paris"})");
  CHECK(finish == "tool_calls");
}

TEST_CASE("failure injection: reset mid-stream - client leaving is seen at once", "[fakes]") {
  fake_provider fake;

  scripted_reply cut;
  cut.chunks = 10;
  cut.reset_after_chunks = 2;
  fake.script(cut);
  client c(fake.port());
  auto r = c.call("/v1/chat/completions", openai_body(true), openai_auth);
  CHECK(r.ec);  // the stream never ended properly
  int contents = 0;
  for (const auto& ev : parse_sse(r.msg.body()))
    if (ev.data.find("\"content\":\"") != std::string::npos && ev.data.find("\"content\":\"\"") == std::string::npos) ++contents;
  CHECK(contents == 2);
  CHECK(r.msg.body().find("[DONE]") == std::string::npos);

  scripted_reply slow;
  slow.chunks = 20;
  slow.chunk_delay = 50ms;
  fake.script(slow);
  client leaver(fake.port());
  leaver.send("/v1/chat/completions", openai_body(true), openai_auth);
  REQUIRE(fake.wait_for_requests(2, 2s));
  const auto id = fake.received().back().connection_id;
  std::this_thread::sleep_for(80ms);
  const auto left = std::chrono::steady_clock::now();
  leaver.socket.close();
  auto closed = fake.wait_for_close(id, 2s);
  REQUIRE(closed);
  CHECK(*closed - left < 100ms);

  scripted_reply hang;
  hang.hang = true;
  fake.script(hang);
  client waiter(fake.port());
  waiter.send("/v1/chat/completions", openai_body(false), openai_auth);
  REQUIRE(fake.wait_for_requests(3, 2s));
  const auto hung_left = std::chrono::steady_clock::now();
  waiter.socket.close();
  auto hung_closed = fake.wait_for_close_after(hung_left, 2s);
  REQUIRE(hung_closed);
  CHECK(*hung_closed - hung_left < 100ms);
}

TEST_CASE("recording and the HTTP control API", "[fakes]") {
  fake_provider fake;
  client c(fake.port());
  c.call("/v1/messages", anthropic_body(false), anthropic_auth);

  auto seen = fake.received();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].target == "/v1/messages");
  CHECK(seen[0].header("Anthropic-Version") == "2023-06-01");
  CHECK(seen[0].api_key == "ant-key");
  CHECK(seen[0].format == wire_format::anthropic);
  CHECK(json::parse(seen[0].body)["max_tokens"] == 100);

  auto r = c.call("/__fake/script", R"({"key":"sk-test-1","format":"openai","error_status":404,"headers":{"x-why":"scripted"}})", {});
  CHECK(r.body()["queued"] == 1);
  r = c.call("/v1/chat/completions", openai_body(false), openai_auth);
  CHECK(r.status == 404);
  CHECK(r.header("x-why") == "scripted");
  CHECK(r.body()["error"]["code"] == "model_not_found");

  r = c.call("/__fake/requests", "", {}, http::verb::get);
  REQUIRE(r.body().size() == 2);
  CHECK(r.body()[1]["api_key"] == "sk-test-1");
  CHECK(r.body()[1]["format"] == "openai");
  r = c.call("/__fake/stats", "", {}, http::verb::get);
  CHECK(r.body()["connections_accepted"] == 1);
  CHECK(r.body()["open_connections"] == 1);

  c.call("/__fake/reset", "", {});
  CHECK(fake.received().empty());
  CHECK(c.call("/v1/chat/completions", openai_body(false), openai_auth).status == 200);
}
