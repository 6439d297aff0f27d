#pragma once
// The tool loop tests' shared setup: a gateway with two registry tools
// (lookup_order, and refund_order which is sensitive) at a fake tool
// endpoint, two workspaces, and one fake provider scripted per round.

#include <string>
#include <vector>

#include "tests/integration/fake_tool_server.hpp"
#include "tests/integration/gateway_fixture.hpp"

using namespace sb::testing;
using nlohmann::json;
using sb::fakes::fake_provider;
using sb::fakes::scripted_reply;

namespace tool_loop_fixture {

using headers = std::vector<std::pair<std::string, std::string>>;
inline const headers acme{{"Authorization", "Bearer acme-token"}};
inline const headers globex{{"Authorization", "Bearer globex-token"}};

inline json tools_config(const fake_tool_server& tools) {
  json order_input = {{"type", "object"},
                      {"properties", {{"order_id", {{"type", "string"}, {"pattern", "^o-[0-9]+$"}}}}},
                      {"required", {"order_id"}},
                      {"additionalProperties", false}};
  return json::array(
      {{{"name", "lookup_order"},
        {"description", "Look up an order"},
        {"input_schema", order_input},
        {"output_schema", {{"type", "object"}, {"required", {"status"}}}},
        {"endpoint", tools.url("/lookup")},
        {"timeout_ms", 2000}},
       {{"name", "refund_order"},
        {"description", "Refund an order"},
        {"input_schema", order_input},
        {"output_schema", {{"type", "object"}, {"required", {"refunded"}}}},
        {"endpoint", tools.url("/refund")},
        {"sensitive", true},
        {"timeout_ms", 2000}}});
}

inline json merged(json base, const json& patch) {
  base.merge_patch(patch);
  return base;
}

struct loop_setup {
  fake_provider fake;
  fake_tool_server tools;
  running_gateway gw;
  std::string model;
  /// `provider`: which fake answers (the loop's wire translation is the same
  /// test for each format); `extra_config` is merged into the config.
  explicit loop_setup(json extra_config = json::object(), const std::string& provider = "openai",
                      sb::environment extra_env = {})
      : gw(fast_config(merged(json{{"tools", tools_config(tools)},
                                   {"workspaces",
                                    {{{"id", "acme"}, {"api_key_sha256", {sha256_of("acme-token")}}},
                                     {{"id", "globex"}, {"api_key_sha256", {sha256_of("globex-token")}}}}}},
                              extra_config)),
           fake_env(fake.base_url(), {provider}, std::move(extra_env))),
        model(provider == "anthropic" ? "anthropic/claude-3-5-haiku-latest"
              : provider == "google"  ? "google/gemini-2.0-flash"
                                      : "openai/gpt-4o-mini") {
    tools.set_reply("/lookup", {200, R"({"status":"shipped"})"});
    tools.set_reply("/refund", {200, R"({"refunded":true})"});
  }
  http_response ask(const std::vector<std::string>& gateway_tools, const headers& h = acme) {
    return gw.chat(request(gateway_tools), h);
  }
  json request(const std::vector<std::string>& gateway_tools, bool stream = false) const {
    auto body = user_message(model, "Where is my order o-42?");
    body["gateway_tools"] = gateway_tools;
    if (stream) body["stream"] = true;
    return body;
  }
  http_response decide(const std::string& id, bool approve, const headers& h = acme) {
    return http_request(gw.port(), "POST", "/v1/tool-confirmations/" + id,
                        json{{"approve", approve}, {"approver", "alice"}}.dump(), h);
  }
};

inline scripted_reply calls(const std::string& name, const std::string& arguments) {
  scripted_reply r;
  r.tool_call = sb::fakes::tool_call{name, arguments};
  return r;
}

inline scripted_reply says(const std::string& text) {
  scripted_reply r;
  r.text = text;
  return r;
}

/// The `role: tool` messages of the provider's n-th request.
inline std::vector<json> tool_messages(const fake_provider& fake, std::size_t n) {
  std::vector<json> out;
  auto rec = fake.received();
  REQUIRE(rec.size() > n);
  auto body = json::parse(rec[n].body);
  for (auto& m : body["messages"])
    if (m["role"] == "tool") out.push_back(m);
  return out;
}

inline std::string content_of(const http_response& r) {
  return json::parse(r.body)["choices"][0]["message"].value("content", "");
}

}  // namespace tool_loop_fixture

using namespace tool_loop_fixture;
