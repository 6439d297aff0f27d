// Our own cases for tools/json_schema.hpp: what the official suite does not
// pin down — error paths and messages, schema errors, and our limits.

#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/json_pointer.hpp"
#include "tools/json_schema.hpp"

using nlohmann::json;
using sb::tools::compiled_schema;
using sb::tools::schema_error;
using sb::tools::validation_error;

namespace {

compiled_schema must_compile(const json& schema) {
  auto result = compiled_schema::compile(schema);
  if (auto* e = std::get_if<schema_error>(&result)) FAIL("schema rejected: " << e->to_string());
  return std::get<compiled_schema>(std::move(result));
}

schema_error must_reject(const json& schema) {
  auto result = compiled_schema::compile(schema);
  if (std::holds_alternative<compiled_schema>(result)) FAIL("schema accepted: " << schema.dump());
  return std::get<schema_error>(std::move(result));
}

std::vector<validation_error> errors_of(const json& schema, const json& instance) {
  auto compiled = must_compile(schema);
  auto errors = compiled.validate(instance);
  CHECK(compiled.is_valid(instance) == errors.empty());
  return errors;
}

bool valid(const json& schema, const json& instance) { return errors_of(schema, instance).empty(); }

}  // namespace

TEST_CASE("json schema: errors name the instance path - the keyword and the problem") {
  const json schema = json::parse(R"({
    "type": "object",
    "properties": {
      "order_id": {"type": "string", "minLength": 3},
      "lines": {"type": "array", "items": {
        "type": "object", "required": ["sku"], "properties": {"qty": {"type": "integer", "minimum": 1}}}},
      "a/b~c": {"type": "boolean"}
    },
    "required": ["order_id"],
    "additionalProperties": false
  })");

  SECTION("valid") { CHECK(valid(schema, {{"order_id", "A-1"}, {"lines", {{{"sku", "x"}, {"qty", 2}}}}})); }
  SECTION("missing required property is reported at the object") {
    auto errors = errors_of(schema, json::object());
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].instance_path == "");
    CHECK(errors[0].keyword == "required");
    CHECK(errors[0].message == R"(missing required property "order_id")");
    CHECK(errors[0].to_string() == R"((root): missing required property "order_id" [required])");
  }
  SECTION("nested item errors, all of them") {
    auto errors = errors_of(schema, json::parse(R"({"order_id": "A-1", "lines": [{"sku": "x"}, {"qty": 0}]})"));
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].instance_path == "/lines/1");
    CHECK(errors[0].keyword == "required");
    CHECK(errors[1].instance_path == "/lines/1/qty");
    CHECK(errors[1].keyword == "minimum");
    CHECK(errors[1].message == "must be >= 1");
  }
  SECTION("type names the expected and the found type, never the value") {
    auto errors = errors_of(schema, {{"order_id", 12345}});
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].instance_path == "/order_id");
    CHECK(errors[0].keyword == "type");
    CHECK(errors[0].message == "expected string, got integer");
  }
  SECTION("additionalProperties false names the property") {
    auto errors = errors_of(schema, {{"order_id", "A-1"}, {"extra", 1}});
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].instance_path == "");
    CHECK(errors[0].keyword == "additionalProperties");
    CHECK(errors[0].message == R"(property "extra" is not allowed)");
  }
  SECTION("instance paths escape ~ and / as JSON pointers do") {
    auto errors = errors_of(schema, {{"order_id", "A-1"}, {"a/b~c", "yes"}});
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].instance_path == "/a~1b~0c");
  }
}

TEST_CASE("json schema: type") {
  SECTION("1.0 is an integer, 1.5 is not") {
    CHECK(valid({{"type", "integer"}}, 1.0));
    CHECK(valid({{"type", "integer"}}, -7));
    CHECK(valid({{"type", "integer"}}, 18446744073709551615u));
    CHECK_FALSE(valid({{"type", "integer"}}, 1.5));
    CHECK(valid({{"type", "number"}}, 1.5));
    CHECK(valid({{"type", "number"}}, 3));
  }
  SECTION("an array of types, named in the message") {
    json schema = {{"type", {"string", "null"}}};
    CHECK(valid(schema, nullptr));
    CHECK(valid(schema, "x"));
    auto errors = errors_of(schema, true);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].message == "expected string or null, got boolean");
  }
}

TEST_CASE("json schema: string lengths count code points - not bytes") {
  json schema = {{"minLength", 2}, {"maxLength", 3}};
  CHECK(valid(schema, "h\xC3\xA9\xC3\xA9"));                          // "héé": 5 bytes, 3 code points
  CHECK_FALSE(valid(schema, "\xF0\x9F\x98\x80"));                     // one emoji: 4 bytes, 1 code point
  CHECK(valid(schema, "\xF0\x9F\x98\x80\xF0\x9F\x98\x80"));           // two
  CHECK_FALSE(valid(schema, "abcd"));
  auto errors = errors_of(schema, "abcd");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].keyword == "maxLength");
  CHECK(errors[0].message == "must be at most 3 characters long");
}

TEST_CASE("json schema: pattern searches - unanchored - and refuses over-long strings") {
  CHECK(valid({{"pattern", "b+"}}, "abbbc"));
  CHECK_FALSE(valid({{"pattern", "^b+$"}}, "abbbc"));
  CHECK(valid({{"pattern", "^[A-Z]{2}-[0-9]+$"}}, "AB-12"));
  CHECK(valid({{"pattern", "^x"}}, 42));  // applies to strings only

  auto errors = errors_of({{"pattern", "^[a-z]+$"}}, "ABC");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].keyword == "pattern");
  CHECK(errors[0].message == R"(must match the pattern "^[a-z]+$")");

  // libstdc++'s matcher recurses per character: a long string must fail
  // cleanly rather than overflow the stack.
  std::string long_text(sb::tools::max_pattern_input_bytes + 1, 'a');
  errors = errors_of({{"pattern", "^(a|b)*$"}}, long_text);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].keyword == "pattern");
  CHECK_THAT(errors[0].message, Catch::Contains("too long"));
  CHECK(valid({{"pattern", "^(a|b)*$"}}, std::string(sb::tools::max_pattern_input_bytes, 'a')));
}

TEST_CASE("json schema: numbers") {
  CHECK(valid({{"exclusiveMinimum", 0}}, 0.001));
  CHECK_FALSE(valid({{"exclusiveMinimum", 0}}, 0));
  CHECK(valid({{"exclusiveMaximum", 10}}, 9));
  CHECK_FALSE(valid({{"exclusiveMaximum", 10}}, 10.0));
  CHECK(valid({{"maximum", 9007199254740993}}, 9007199254740993));  // integers compare exactly
  CHECK_FALSE(valid({{"maximum", 9007199254740992}}, 9007199254740993));
  CHECK(valid({{"minimum", -1}}, 18446744073709551615u));
  auto errors = errors_of({{"exclusiveMaximum", 10}}, 10);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "must be < 10");
}

TEST_CASE("json schema: enum - const - uniqueItems compare numbers by value") {
  CHECK(valid({{"enum", {1, "a"}}}, 1.0));
  CHECK_FALSE(valid({{"enum", {1, "a"}}}, true));
  CHECK(valid({{"const", {{"a", {1, 2}}}}}, json::parse(R"({"a": [1.0, 2]})")));
  auto errors = errors_of({{"uniqueItems", true}}, json::parse("[1, 2, 1.0]"));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "items 0 and 2 are equal");
  errors = errors_of({{"enum", {"red", "green"}}}, "blue");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == R"(must be one of ["red","green"])");
}

TEST_CASE("json schema: items as a schema and as a prefix") {
  json prefix = json::parse(R"({"items": [{"type": "string"}, {"type": "integer"}], "additionalItems": false})");
  CHECK(valid(prefix, json::parse(R"(["a", 1])")));
  CHECK(valid(prefix, json::parse(R"(["a"])")));
  auto errors = errors_of(prefix, json::parse(R"(["a", 1, 2])"));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].instance_path == "/2");
  CHECK(valid({{"items", {{"type", "integer"}}}, {"minItems", 1}, {"maxItems", 2}}, {1, 2}));
  CHECK_FALSE(valid({{"items", {{"type", "integer"}}}}, {1, "x"}));
  CHECK_FALSE(valid({{"minItems", 1}}, json::array()));
}

TEST_CASE("json schema: combinators report one error of their own") {
  json any = json::parse(R"({"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 10}]})");
  CHECK(valid(any, "x"));
  CHECK(valid(any, 11));
  auto errors = errors_of(any, 3);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].keyword == "anyOf");
  CHECK(errors[0].message == "does not match any of the 2 alternatives");

  json one = json::parse(R"({"oneOf": [{"type": "integer"}, {"minimum": 5}]})");
  CHECK(valid(one, 3));
  CHECK(valid(one, 5.5));
  errors = errors_of(one, 7);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].keyword == "oneOf");
  CHECK(errors[0].message == "matches more than one alternative (0 and 1); must match exactly one");

  errors = errors_of({{"not", {{"type", "null"}}}}, nullptr);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].keyword == "not");

  // allOf's branches speak for themselves.
  errors = errors_of(json::parse(R"({"allOf": [{"required": ["a"]}, {"required": ["b"]}]})"), json::object());
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].keyword == "required");
  CHECK(errors[1].keyword == "required");
}

TEST_CASE("json schema: boolean schemas and unknown keywords") {
  CHECK(valid(true, json::parse(R"({"anything": [1]})")));
  auto errors = errors_of(false, 1);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].keyword == "false");
  CHECK(valid({{"properties", {{"x", false}}}}, json::object()));
  CHECK_FALSE(valid({{"properties", {{"x", false}}}}, {{"x", 1}}));
  // format, title, examples, x-anything: ignored, as the specification says.
  CHECK(valid({{"type", "string"}, {"format", "email"}, {"title", "t"}, {"x-vendor", {1}}}, "not an email"));
}

TEST_CASE("json schema: $ref within the document") {
  SECTION("definitions and $defs") {
    json schema = json::parse(R"({
      "$defs": {"id": {"type": "string", "pattern": "^o-"}},
      "definitions": {"qty": {"type": "integer"}},
      "properties": {"id": {"$ref": "#/$defs/id"}, "qty": {"$ref": "#/definitions/qty"}}
    })");
    CHECK(valid(schema, {{"id", "o-1"}, {"qty", 2}}));
    auto errors = errors_of(schema, {{"id", "x"}, {"qty", 2}});
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].instance_path == "/id");
    CHECK(errors[0].keyword == "pattern");
  }
  SECTION("escapes: ~0, ~1 and percent-encoding") {
    json schema = json::parse(R"({
      "$defs": {"a/b": {"type": "integer"}, "c~d": {"type": "string"}, "e f": {"type": "boolean"}},
      "properties": {"x": {"$ref": "#/$defs/a~1b"}, "y": {"$ref": "#/$defs/c~0d"}, "z": {"$ref": "#/$defs/e%20f"}}
    })");
    CHECK(valid(schema, {{"x", 1}, {"y", "s"}, {"z", true}}));
    CHECK_FALSE(valid(schema, {{"x", "1"}}));
    CHECK_FALSE(valid(schema, {{"y", 1}}));
    CHECK_FALSE(valid(schema, {{"z", 1}}));
  }
  SECTION("recursion through #") {
    json tree = json::parse(R"({"type": "object", "required": ["v"],
      "properties": {"v": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#"}}}})");
    CHECK(valid(tree, json::parse(R"({"v": 1, "children": [{"v": 2, "children": [{"v": 3}]}]})")));
    auto errors = errors_of(tree, json::parse(R"({"v": 1, "children": [{"v": 2, "children": [{"v": "3"}]}]})"));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].instance_path == "/children/0/children/0/v");
  }
  SECTION("a ref into an array of schemas") {
    // Any place in the document may hold a schema, even under an unknown keyword.
    json schema = json::parse(R"({"x-alts": [{"type": "null"}, {"type": "string"}], "properties": {"p": {"$ref": "#/x-alts/1"}}})");
    CHECK(valid(schema, {{"p", "s"}}));
    CHECK_FALSE(valid(schema, {{"p", nullptr}}));
  }
  SECTION("as in draft-07, $ref wins over its siblings") {
    CHECK(valid(json::parse(R"({"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s", "maxLength": 1})"), "long"));
  }
}

TEST_CASE("json schema: schema errors name the keyword path") {
  auto check = [](const json& schema, const std::string& path, const std::string& message_part) {
    auto e = must_reject(schema);
    CHECK(e.keyword_path == path);
    CHECK_THAT(e.message, Catch::Contains(message_part));
  };
  check(json::parse(R"({"type": "strin"})"), "/type", R"(unknown type "strin")");
  check(json::parse(R"({"type": 5})"), "/type", "expected a type name");
  check(json::parse(R"({"type": []})"), "/type", "at least one");
  check(json::parse(R"({"type": ["string", "string"]})"), "/type", "listed twice");
  check(json::parse(R"({"properties": {"id": {"type": "strng"}}})"), "/properties/id/type", "unknown type");
  check(json::parse(R"({"properties": {"a/b": {"minLength": -1}}})"), "/properties/a~1b/minLength",
        "non-negative integer");
  check(json::parse(R"({"properties": []})"), "/properties", "expected an object of schemas");
  check(json::parse(R"({"properties": {"x": 3}})"), "/properties/x", "object or a boolean");
  check(json::parse(R"({"required": "id"})"), "/required", "expected an array");
  check(json::parse(R"({"required": ["a", "a"]})"), "/required", "listed twice");
  check(json::parse(R"({"enum": 3})"), "/enum", "expected an array");
  check(json::parse(R"({"minimum": "3"})"), "/minimum", "expected a number");
  check(json::parse(R"({"exclusiveMinimum": true, "minimum": 0})"), "/exclusiveMinimum", "draft-4");
  check(json::parse(R"({"uniqueItems": 1})"), "/uniqueItems", "true or false");
  check(json::parse(R"({"items": [{"type": 1}]})"), "/items/0/type", "expected a type name");
  check(json::parse(R"({"anyOf": []})"), "/anyOf", "non-empty array");
  check(json::parse(R"({"oneOf": [true, {"not": "x"}]})"), "/oneOf/1/not", "object or a boolean");
  check(json::parse(R"({"pattern": "(unclosed"})"), "/pattern", "invalid regular expression");
  check(json::parse(R"({"patternProperties": {"[": {}}})"), "/patternProperties/[", "invalid regular expression");
  check(json::parse(R"({"$defs": {"broken": {"type": "strin"}}})"), "/$defs/broken/type", "unknown type");
  check(json::parse(R"({"$ref": "#/definitions/missing"})"), "/$ref", "does not resolve");
  check(json::parse(R"({"$ref": "other.json#/a"})"), "/$ref", "only references within the document");
  check(json::parse(R"({"$ref": "#anchor"})"), "/$ref", "not a JSON pointer");
  check(json::parse(R"({"$ref": "#/a%2"})"), "/$ref", "malformed %-escape");
  check(json::parse(R"({"$ref": 1})"), "/$ref", "expected a string");
  check(json("object"), "", "object or a boolean");
}

TEST_CASE("json schema: reference loops that never descend are schema errors - not stack overflows") {
  auto e = must_reject(json::parse(R"({"$ref": "#"})"));
  CHECK_THAT(e.message, Catch::Contains("reference cycle"));
  e = must_reject(json::parse(R"({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}})"));
  CHECK_THAT(e.message, Catch::Contains("reference cycle"));
  e = must_reject(json::parse(R"({"allOf": [{"not": {"$ref": "#"}}]})"));
  CHECK_THAT(e.message, Catch::Contains("reference cycle"));
  // Descending into the value breaks the loop: that is fine.
  must_compile(json::parse(R"({"properties": {"next": {"$ref": "#"}}})"));
  must_compile(json::parse(R"({"anyOf": [{"type": "null"}, {"items": {"$ref": "#"}}]})"));
}

TEST_CASE("json schema: a schema nested absurdly deep is refused") {
  json schema = true;
  for (int i = 0; i < 500; ++i) schema = json{{"not", schema}};
  auto e = must_reject(schema);
  CHECK_THAT(e.message, Catch::Contains("nested deeper"));
}

TEST_CASE("json schema: a recursive schema stops at max_instance_depth") {
  json list = json::parse(R"({"type": "object", "properties": {"next": {"$ref": "#"}}})");
  json shallow = json::object();
  for (std::size_t i = 0; i < 10; ++i) shallow = json{{"next", shallow}};
  CHECK(valid(list, shallow));
  json deep = json::object();
  for (std::size_t i = 0; i < 100000; ++i) deep = json{{"next", std::move(deep)}};
  auto errors = errors_of(list, deep);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].keyword == "depth");
  // "/next" once per level, up to the first level past the limit.
  CHECK(errors[0].instance_path.size() == 5 * (sb::tools::max_instance_depth + 1));
}

TEST_CASE("json schema: one compiled schema validates from many threads") {
  auto schema = must_compile(json::parse(R"({"type": "object", "properties": {"id": {"pattern": "^[0-9]+$"}}})"));
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (!schema.is_valid({{"id", std::to_string(i)}})) ++bad[t];
        if (schema.is_valid({{"id", "x" + std::to_string(i)}})) ++bad[t];
      }
    });
  for (auto& t : threads) t.join();
  CHECK(bad == std::vector<int>(4, 0));
}

TEST_CASE("json pointer helpers") {
  using sb::tools::parse_pointer;
  using sb::tools::percent_decode;
  CHECK(parse_pointer("") == std::vector<std::string>{});
  CHECK(parse_pointer("/") == std::vector<std::string>{""});
  CHECK(parse_pointer("/a~1b/~0/0") == std::vector<std::string>{"a/b", "~", "0"});
  CHECK_FALSE(parse_pointer("a"));
  CHECK_FALSE(parse_pointer("/a~2"));
  CHECK_FALSE(parse_pointer("/a~"));
  CHECK(percent_decode("a%25b%2F") == std::string("a%b/"));
  CHECK_FALSE(percent_decode("%2"));
  CHECK_FALSE(percent_decode("%zz"));
}
