// What an OpenAI-format upstream is sent: the client's members as the client
// wrote them (issue #4: no re-serialisation), unless the gateway changed the
// request (a prompt rendered, gateway tools offered), which it then sends.

#include "tests/integration/tool_loop_fixture.hpp"
#include "tests/prompts/temp_prompt_dir.hpp"

namespace {

// Spellings a dump of the parsed body would change: the member order, white
// space, `1.50`, an escaped `é`, and a nested object's key order.
const std::string members =
    R"("messages" : [ {"role": "user", "content": "caf\u00e9 au lait"} ],)"
    R"("temperature": 1.50,"metadata": {"z": 1, "a": [1e5, -0.0]})";

http_response send(running_gateway& gw, const std::string& text) {
  return http_request(gw.port(), "POST", "/v1/chat/completions", text);
}

}  // namespace

TEST_CASE("the upstream receives the client's members byte for byte", "[passthrough]") {
  fake_provider fake;
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}, {{"LLM_MODEL_OPENAI", "gpt-4o-mini"}}));

  REQUIRE(send(gw, "{ " + members + R"(, "model": "auto", "gateway": {"x": 1} })").status == 200);
  REQUIRE(fake.received().size() == 1);
  CHECK(fake.received()[0].body == "{" + members + R"(,"model":"gpt-4o-mini"})");

  auto streamed = send(gw, "{" + members + R"(,"stream": true, "model": "auto","stream_options": {"x": 2}})");
  REQUIRE(streamed.status == 200);
  REQUIRE(fake.received().size() == 2);
  CHECK(fake.received()[1].body ==
        "{" + members + R"(,"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true,"x":2}})");
}

TEST_CASE("a rendered prompt reaches the upstream instead of the client's text", "[passthrough][prompts]") {
  sb::prompts::testing::temp_prompt_dir prompts;
  prompts.write_locked("helper/v1.txt", "Be brief.");
  prompts.write("helper/rollout.json", R"({"stable": 1})");
  fake_provider fake;
  running_gateway gw(fast_config({{"prompts_dir", prompts.dir()}}), fake_env(fake.base_url(), {"openai"}));

  REQUIRE(send(gw, "{" + members + R"(,"model": "auto","prompt": {"id": "helper"}})").status == 200);
  auto sent = json::parse(fake.received().at(0).body);
  REQUIRE(sent["messages"].size() == 2);
  CHECK(sent["messages"][0] == json{{"role", "system"}, {"content", "Be brief."}});
  CHECK(sent["messages"][1]["content"] == "caf\xc3\xa9 au lait");
  CHECK(sent["temperature"] == 1.5);
  CHECK_FALSE(sent.contains("prompt"));
}

TEST_CASE("gateway tools reach the upstream instead of the client's text", "[passthrough][tool_loop]") {
  loop_setup s;
  s.fake.script(says("Shipped."));
  auto text = "{" + members + R"(,"model": ")" + s.model + R"(","gateway_tools": ["lookup_order"]})";
  REQUIRE(http_request(s.gw.port(), "POST", "/v1/chat/completions", text, acme).status == 200);
  auto sent = json::parse(s.fake.received().at(0).body);
  REQUIRE(sent["tools"].size() == 1);
  CHECK(sent["tools"][0]["function"]["name"] == "lookup_order");
  CHECK_FALSE(sent.contains("gateway_tools"));
  CHECK(sent["metadata"] == json{{"z", 1}, {"a", {1e5, -0.0}}});
}
