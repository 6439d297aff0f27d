// tools/tool_registry.hpp: reading SPEC section 3's "tools" and offering them.

#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "tools/tool_registry.hpp"

using nlohmann::json;
using sb::config_error;
using sb::tools::tool_registry;

namespace {

// SPEC section 3's example tool.
json refund_order() {
  return json::parse(R"({
    "name": "refund_order", "description": "Refund an order",
    "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}},
                     "required": ["order_id"], "additionalProperties": false},
    "output_schema": {"type": "object", "required": ["refunded"]},
    "endpoint": "http://127.0.0.1:7001/refund", "sensitive": true, "timeout_ms": 5000
  })");
}

json minimal(const std::string& name) {
  return {{"name", name}, {"input_schema", {{"type", "object"}}}, {"endpoint", "https://tools.example/" + name}};
}

tool_registry must_build(const json& tools) {
  auto result = tool_registry::build(tools);
  if (auto* e = std::get_if<config_error>(&result)) FAIL("rejected: " << e->to_string());
  return std::get<tool_registry>(std::move(result));
}

config_error must_fail(const json& tools) {
  auto result = tool_registry::build(tools);
  if (std::holds_alternative<tool_registry>(result)) FAIL("accepted: " << tools.dump());
  return std::get<config_error>(std::move(result));
}

// One tool with `key` set to `value` (or removed when value is discarded).
json with(json tool, const std::string& key, const json& value) {
  tool[key] = value;
  return json::array({tool});
}

json without(json tool, const std::string& key) {
  tool.erase(key);
  return json::array({tool});
}

}  // namespace

TEST_CASE("tool registry: reads SPEC section 3's example") {
  auto registry = must_build(json::array({refund_order(), minimal("lookup")}));
  REQUIRE(registry.size() == 2);
  const auto* tool = registry.find("refund_order");
  REQUIRE(tool);
  CHECK(tool->name == "refund_order");
  CHECK(tool->description == "Refund an order");
  CHECK(tool->endpoint == "http://127.0.0.1:7001/refund");
  CHECK(tool->sensitive);
  CHECK(tool->timeout == std::chrono::milliseconds(5000));
  CHECK(tool->input.is_valid({{"order_id", "o-1"}}));
  CHECK_FALSE(tool->input.is_valid({{"order_id", 1}}));
  CHECK_FALSE(tool->input.is_valid({{"order_id", "o-1"}, {"amount", 5}}));
  REQUIRE(tool->output);
  CHECK(tool->output->is_valid({{"refunded", true}}));
  CHECK_FALSE(tool->output->is_valid(json::object()));

  const auto* lookup = registry.find("lookup");
  REQUIRE(lookup);
  CHECK_FALSE(lookup->sensitive);
  CHECK(lookup->timeout == std::chrono::milliseconds(10000));
  CHECK_FALSE(lookup->output);
  CHECK(lookup->description.empty());

  CHECK(registry.find("missing") == nullptr);
  CHECK(registry.tools()[0].name == "refund_order");  // config order
}

TEST_CASE("tool registry: the OpenAI definition offered to the model") {
  auto registry = must_build(json::array({refund_order(), minimal("lookup")}));
  const json* def = registry.openai_tool_definition("refund_order");
  REQUIRE(def);
  CHECK(*def == json{{"type", "function"},
                     {"function", {{"name", "refund_order"},
                                   {"description", "Refund an order"},
                                   {"parameters", refund_order()["input_schema"]}}}});
  // No empty description is offered.
  const json* bare = registry.openai_tool_definition("lookup");
  REQUIRE(bare);
  CHECK_FALSE(bare->at("function").contains("description"));
  CHECK(registry.openai_tool_definition("missing") == nullptr);
}

TEST_CASE("tool registry: empty - and copies share one snapshot") {
  CHECK(tool_registry().empty());
  CHECK(must_build(json::array()).empty());
  auto registry = must_build(json::array({minimal("a")}));
  tool_registry copy = registry;
  CHECK(copy.find("a") == registry.find("a"));
}

TEST_CASE("tool registry: problems name the key and the tool") {
  auto check = [](const json& tools, const std::string& key, const std::string& problem_part) {
    auto e = must_fail(tools);
    CHECK(e.key == key);
    CHECK_THAT(e.problem, Catch::Contains(problem_part));
  };
  check(json::object(), "tools", "expected an array");
  check(json::array({"x"}), "tools[0]", "expected an object");
  check(with(refund_order(), "sensitve", true), "tools[0].sensitve", "unknown key");

  check(without(refund_order(), "name"), "tools[0].name", "required");
  check(with(refund_order(), "name", "refund order"), "tools[0].name", "letters, digits");
  check(with(refund_order(), "name", std::string(65, 'a')), "tools[0].name", "1 to 64");
  check(with(refund_order(), "name", ""), "tools[0].name", "1 to 64");
  check(with(refund_order(), "name", 7), "tools[0].name", "expected a string");
  check(with(refund_order(), "description", 7), "tools[0].description", R"((tool "refund_order"))");

  check(without(refund_order(), "input_schema"), "tools[0].input_schema", "required");
  check(with(refund_order(), "input_schema", {{"type", "string"}}), "tools[0].input_schema",
        R"("type": "object")");
  check(with(refund_order(), "input_schema", true), "tools[0].input_schema", R"("type": "object")");
  auto e = must_fail(with(refund_order(), "input_schema",
                          {{"type", "object"}, {"properties", {{"id", {{"type", "strng"}}}}}}));
  CHECK(e.key == "tools[0].input_schema");
  CHECK(e.to_string() ==
        R"(tools[0].input_schema: not a valid JSON Schema: #/properties/id/type: unknown type "strng"; )"
        R"(expected null, boolean, integer, number, string, array or object (tool "refund_order"))");
  check(with(refund_order(), "input_schema", {{"type", "object"}, {"$ref", "#/nowhere"}}),
        "tools[0].input_schema", "does not resolve");
  check(with(refund_order(), "output_schema", {{"pattern", "("}}), "tools[0].output_schema",
        "invalid regular expression");

  check(without(refund_order(), "endpoint"), "tools[0].endpoint", "required");
  check(with(refund_order(), "endpoint", "ftp://host/x"), "tools[0].endpoint", "http:// or https://");
  check(with(refund_order(), "endpoint", "file:///etc/passwd"), "tools[0].endpoint", "http:// or https://");
  check(with(refund_order(), "endpoint", "http:///path"), "tools[0].endpoint", "host");
  check(with(refund_order(), "endpoint", "http://host:0/x"), "tools[0].endpoint", "port");
  check(with(refund_order(), "endpoint", "http://host:99999/x"), "tools[0].endpoint", "port");
  check(with(refund_order(), "endpoint", "http://host:/x"), "tools[0].endpoint", "port");
  check(with(refund_order(), "endpoint", "http://ho st/x"), "tools[0].endpoint", "whitespace");

  check(with(refund_order(), "sensitive", "yes"), "tools[0].sensitive", "true or false");
  check(with(refund_order(), "timeout_ms", 0), "tools[0].timeout_ms", "from 1 to 600000");
  check(with(refund_order(), "timeout_ms", 600001), "tools[0].timeout_ms", "from 1 to 600000");
  check(with(refund_order(), "timeout_ms", "5s"), "tools[0].timeout_ms", "from 1 to 600000");
}

TEST_CASE("tool registry: a name used twice is refused - naming both") {
  auto e = must_fail(json::array({minimal("a"), minimal("b"), minimal("a")}));
  CHECK(e.key == "tools[2].name");
  CHECK(e.problem == R"(duplicate tool name "a" (also tools[0]))");
}

TEST_CASE("tool registry: endpoint URLs that are fine") {
  for (const char* url : {"http://127.0.0.1:7001/refund", "HTTPS://tools.example", "https://[::1]:8443/x?y=1",
                          "http://user:pw@host/x", "http://host:65535"}) {
    CAPTURE(url);
    CHECK_FALSE(sb::tools::endpoint_url_problem(url));
  }
  CHECK(sb::tools::endpoint_url_problem("https://[::1/x"));
}

TEST_CASE("tool registry: builds from a gateway_config") {
  sb::gateway_config config;
  config.tools = json::array({refund_order()});
  auto result = tool_registry::build(config);
  REQUIRE(std::holds_alternative<tool_registry>(result));
  CHECK(std::get<tool_registry>(result).find("refund_order"));
}
