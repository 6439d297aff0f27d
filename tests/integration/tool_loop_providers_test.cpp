// SPEC 9 with the answering model behind Anthropic's and Gemini's wire
// formats: the loop's tool call comes back as tool_use / functionCall, the
// tool's answer goes out as tool_result / functionResponse, streamed or not.

#include "tests/integration/tool_loop_fixture.hpp"

namespace {

/// The tool's answer as the provider's second request carries it.
json tool_answer_sent(const fake_provider& fake, const std::string& provider) {
  auto rec = fake.received();
  REQUIRE(rec.size() == 2);
  auto body = json::parse(rec[1].body);
  if (provider == "anthropic") {
    // assistant: [tool_use], then user: [tool_result] naming the tool_use id.
    auto& messages = body["messages"];
    REQUIRE(messages.size() >= 3);
    auto& use = messages[messages.size() - 2];
    CHECK(use["role"] == "assistant");
    json tool_use;
    for (auto& part : use["content"])
      if (part["type"] == "tool_use") tool_use = part;
    CHECK(tool_use["name"] == "lookup_order");
    CHECK(tool_use["input"] == json{{"order_id", "o-42"}});
    auto& result = messages.back()["content"][0];
    CHECK(result["type"] == "tool_result");
    CHECK(result["tool_use_id"] == tool_use["id"]);
    auto content = result["content"];
    return json::parse(content.is_string() ? content.get<std::string>() : content[0]["text"].get<std::string>());
  }
  // Gemini: model: [functionCall], then a functionResponse part with the answer.
  auto& contents = body["contents"];
  REQUIRE(contents.size() >= 3);
  auto& call = contents[contents.size() - 2]["parts"][0]["functionCall"];
  CHECK(call["name"] == "lookup_order");
  CHECK(call["args"] == json{{"order_id", "o-42"}});
  auto& response = contents.back()["parts"][0]["functionResponse"];
  CHECK(response["name"] == "lookup_order");
  return response["response"];
}

void loop_through(const std::string& provider, bool stream) {
  loop_setup s(json::object(), provider);
  s.fake.script(calls("lookup_order", R"({"order_id":"o-42"})"));
  s.fake.script(says("Your order has shipped."));
  auto r = s.gw.chat(s.request({"lookup_order"}, stream), acme);
  REQUIRE(r.status == 200);
  CHECK(r.header("x-gateway-provider") == provider);
  REQUIRE(s.tools.call_count() == 1);
  CHECK(json::parse(s.tools.calls()[0].body) == json{{"order_id", "o-42"}});
  if (stream) {
    CHECK(streamed_text(r.body) == "Your order has shipped.");
    auto data = sse_data(r.body);
    REQUIRE(data.size() >= 2);
    CHECK(data.back() == "[DONE]");
    CHECK(json::parse(data[data.size() - 2])["gateway"]["tool_rounds"] == 2);
  } else {
    CHECK(content_of(r) == "Your order has shipped.");
    CHECK(json::parse(r.body)["gateway"]["tool_rounds"] == 2);
  }
  auto answer = tool_answer_sent(s.fake, provider);
  // The answer may arrive as the tool's JSON itself or wrapped by the adapter.
  CHECK(answer.dump().find("shipped") != std::string::npos);
}

}  // namespace

TEST_CASE("tool loop through Anthropic: tool_use in and tool_result out - whole answer") { loop_through("anthropic", false); }
TEST_CASE("tool loop through Anthropic: tool_use in and tool_result out - streamed") { loop_through("anthropic", true); }
TEST_CASE("tool loop through Gemini: functionCall in and functionResponse out - whole answer") { loop_through("google", false); }
TEST_CASE("tool loop through Gemini: functionCall in and functionResponse out - streamed") { loop_through("google", true); }
