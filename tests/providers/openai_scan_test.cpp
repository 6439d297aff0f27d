// The scanner that reads an OpenAI answer's or chunk's facts from its text
// must agree with a full parse on every fact and on what is valid JSON.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "providers/openai_scan.hpp"

using sb::providers::facts_of_chunk;
using sb::providers::object_members;
using sb::providers::scan_openai;
using nlohmann::json;

namespace {

const char* const chunks[] = {
    R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"finish_reason":null}],"usage":null})",
    R"({"id":"c1","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]})",
    R"({"id":"c1","choices":[{"index":0,"delta":{"content":"tab\there \"q\" \\ \/ \u00e9 \ud83d\ude00 \u0041"},"finish_reason":null}]})",
    R"({"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
    R"({"id":"c1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}})",
    R"({"id":"c1","choices":[],"usage":null})",
    R"({"id":"c1","choices":[{"index":0,"delta":{"refusal":"no"},"finish_reason":null}]})",
    R"({"id":"c1","choices":[{"index":0,"delta":{"refusal":""},"finish_reason":null}]})",
    R"({"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]})",
    R"({"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\": 1}"}}]}}]})",
    R"({"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[]},"finish_reason":null}]})",
    R"({"id":"c1","choices":[{"index":0,"delta":{"content":""},"finish_reason":null},{"index":1,"delta":{"content":"second"},"finish_reason":"stop"}]})",
    R"( { "choices" : [ { "delta" : { "content" : "spaced" } , "finish_reason" : null } ] , "x" : [1, -2.5e+3, true, false, null, {"nested": [[]]}] } )",
    R"({"choices":[{"delta":{"content":"x"}}],"usage":{"prompt_tokens":"7","completion_tokens":8.0}})",
    R"({"object":"x"})",
};

}  // namespace

TEST_CASE("scanned chunk facts agree with the parsed chunk's") {
  for (auto* text : chunks) {
    INFO(text);
    auto parsed = json::parse(text);
    auto expected = facts_of_chunk(parsed);
    auto scanned = scan_openai(text);
    REQUIRE(scanned);
    CHECK(scanned->chunk.content == expected.content);
    CHECK(scanned->chunk.content_chars == expected.content_chars);
    CHECK(scanned->chunk.text == expected.text);
  }
}

TEST_CASE("the scanner reads usage created tool calls and errors") {
  auto f = scan_openai(
      R"({"id":"x","created":1733000000,"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]}}],"usage":{"prompt_tokens":3,"completion_tokens":5}})");
  REQUIRE(f);
  CHECK(f->created == 1733000000);
  CHECK(f->has_usage);
  CHECK(f->usage.reported);
  CHECK(f->usage.prompt_tokens == 3);
  CHECK(f->usage.completion_tokens == 5);
  CHECK(f->choices == 1);
  CHECK(f->messages == 1);
  CHECK(f->first_tool_calls);
  CHECK_FALSE(f->has_error);

  auto e = scan_openai(R"({"error":{"message":"overloaded","type":"server_error"}})");
  REQUIRE(e);
  CHECK(e->has_error);
  CHECK_FALSE(e->choices_array);

  auto counts_as_strings = scan_openai(R"({"choices":[],"usage":{"prompt_tokens":"7","completion_tokens":"x"}})");
  REQUIRE(counts_as_strings);
  CHECK(counts_as_strings->usage.prompt_tokens == 7);
  CHECK(counts_as_strings->usage.completion_tokens == 0);

  auto no_created = scan_openai(R"({"created":0,"choices":[{"message":{"content":"hi"}},{"text":"no message"}]})");
  REQUIRE(no_created);
  CHECK(no_created->created == 0);
  CHECK(no_created->choices == 2);
  CHECK(no_created->messages == 1);
  CHECK(no_created->chunk.text == "hi");
}

TEST_CASE("the scanner rejects what a JSON parser rejects") {
  const char* const texts[] = {
      "",
      "[]",
      "\"str\"",
      "{",
      "{}",
      "{} {}",
      "{\"a\":}",
      "{\"a\":1,}",
      "{\"a\":[1,]}",
      "{\"a\":01}",
      "{\"a\":1.}",
      "{\"a\":-}",
      "{\"a\":1e}",
      "{\"a\":tru}",
      "{\"a\":nul}",
      "{\"a\":\"unterminated}",
      "{\"a\":\"bad escape \\x\"}",
      "{\"a\":\"lone surrogate \\ud800\"}",
      "{\"a\":\"low first \\udc00\"}",
      "{\"a\":\"short \\u12\"}",
      "{\"a\":\"raw\ttab\"}",
      "{a:1}",
      "{\"a\" 1}",
      "{\"choices\":[{\"delta\":{\"content\":\"x\"}}]",
      "{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}}",
  };
  for (auto* text : texts) {
    INFO(text);
    bool object = json::accept(text) && json::parse(text).is_object();
    CHECK(scan_openai(text).has_value() == object);
    CHECK(object_members(text).has_value() == object);
  }
}

TEST_CASE("the scanner refuses nesting past its depth bound instead of overflowing") {
  std::string deep = "{\"a\":";
  for (int i = 0; i < 10000; ++i) deep += "[";
  for (int i = 0; i < 10000; ++i) deep += "]";
  deep += "}";
  CHECK_FALSE(scan_openai(deep).has_value());
  CHECK_FALSE(object_members(deep).has_value());
  std::string fine = "{\"a\":";
  for (int i = 0; i < 60; ++i) fine += "[";
  for (int i = 0; i < 60; ++i) fine += "]";
  fine += "}";
  CHECK(scan_openai(fine).has_value());
}

TEST_CASE("object members are the keys unescaped and the values exactly as written") {
  const std::string text =
      " {\"model\" : \"gpt\",\n \"t\":1.50,\"caf\\u00e9\":{\"b\": [1, -0.0, 1e5]} ,\"s\":\"\\u00e9\\n\",\"n\":null,"
      "\"model\":true} ";
  auto members = object_members(text);
  REQUIRE(members);
  REQUIRE(members->size() == 6);
  const std::pair<const char*, const char*> expected[] = {
      {"model", "\"gpt\""}, {"t", "1.50"}, {"caf\xc3\xa9", "{\"b\": [1, -0.0, 1e5]}"},
      {"s", "\"\\u00e9\\n\""}, {"n", "null"}, {"model", "true"}};
  for (std::size_t i = 0; i < members->size(); ++i) {
    auto& m = (*members)[i];
    INFO(i);
    CHECK(m.key == expected[i].first);
    CHECK(m.value == expected[i].second);
    // The member runs from the key's quote to the value's end, inner white space kept.
    CHECK(m.text.front() == '"');
    CHECK(m.text.substr(m.text.size() - m.value.size()) == m.value);
    CHECK(json::parse("{" + std::string(m.text) + "}").begin().key() == m.key);
  }
  CHECK((*members)[0].text == "\"model\" : \"gpt\"");
  CHECK((*members)[2].text == "\"caf\\u00e9\":{\"b\": [1, -0.0, 1e5]}");

  auto empty = object_members(" { } ");
  REQUIRE(empty);
  CHECK(empty->empty());
}
