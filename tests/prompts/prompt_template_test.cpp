#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "prompts/prompt_template.hpp"

using namespace sb::prompts;
using nlohmann::json;

namespace {

prompt_template parsed(const std::string& text) {
  auto t = prompt_template::parse(text);
  if (!t) FAIL("parse failed: " << t.error().message);
  return t.value();
}

std::string rendered(const std::string& text, const json& values) {
  auto out = parsed(text).render(values);
  if (!out) FAIL("render failed: " << out.error().message);
  return out.value();
}

prompt_error render_error(const std::string& text, const json& values) {
  auto out = parsed(text).render(values);
  REQUIRE_FALSE(out.ok());
  return out.error();
}

}  // namespace

TEST_CASE("variables are filled - with or without spaces inside the braces") {
  CHECK(rendered("Hello {{name}}, welcome to {{ city }}.", {{"name", "Ada"}, {"city", "Paris"}}) ==
        "Hello Ada, welcome to Paris.");
  CHECK(rendered("{{\tname\t}}!", {{"name", "Ada"}}) == "Ada!");
}

TEST_CASE("a variable used twice is filled twice and listed once") {
  auto t = parsed("{{a}} and {{b}} and {{a}}");
  CHECK(t.variables() == std::vector<std::string>{"a", "b"});
  CHECK(t.render({{"a", "x"}, {"b", "y"}}).value() == "x and y and x");
}

TEST_CASE("strings are inserted as they are - numbers and booleans as JSON writes them") {
  CHECK(rendered("{{s}}|{{i}}|{{f}}|{{b}}", {{"s", "a \"quoted\" {{x}}"}, {"i", 42}, {"f", 2.5}, {"b", true}}) ==
        "a \"quoted\" {{x}}|42|2.5|true");
}

TEST_CASE("a template without variables renders as written - bytes and final newline kept") {
  CHECK(rendered("You are helpful.\n", json()) == "You are helpful.\n");
  CHECK(rendered("You are helpful.\n", json::object()) == "You are helpful.\n");
  CHECK(parsed("x{{a}}\n").source() == "x{{a}}\n");
}

TEST_CASE("a missing variable is an error naming it") {
  auto e = render_error("Hello {{name}} from {{city}}", {{"name", "Ada"}});
  CHECK(e.kind == prompt_error_kind::missing_variable);
  CHECK(e.subject == "city");
  CHECK_THAT(e.message, Catch::Contains("'city'"));
  CHECK(to_api_error(e).status == 400);
  CHECK(to_api_error(e).param == std::optional<std::string>("prompt.variables.city"));
}

TEST_CASE("an unknown variable is an error naming it") {
  auto e = render_error("Hello {{name}}", {{"name", "Ada"}, {"mood", "happy"}});
  CHECK(e.kind == prompt_error_kind::unknown_variable);
  CHECK(e.subject == "mood");
  CHECK_THAT(e.message, Catch::Contains("'mood'") && Catch::Contains("name"));
  CHECK(to_api_error(e).status == 400);
}

TEST_CASE("variables must be an object of strings - numbers or booleans") {
  CHECK(render_error("{{a}}", json::array()).kind == prompt_error_kind::invalid_variable);
  auto e = render_error("{{a}}", {{"a", json::array({1, 2})}});
  CHECK(e.kind == prompt_error_kind::invalid_variable);
  CHECK(e.subject == "a");
  CHECK(render_error("{{a}}", {{"a", nullptr}}).kind == prompt_error_kind::invalid_variable);
}

TEST_CASE("{{{{ writes a literal {{ and a lone }} is plain text") {
  CHECK(rendered("{{{{name}} is how you write {{name}}", {{"name", "Ada"}}) ==
        "{{name}} is how you write Ada");
  CHECK(parsed("{{{{literal}}").variables().empty());
  CHECK(rendered("JSON: {\"a\": {\"b\": 1}}", json()) == "JSON: {\"a\": {\"b\": 1}}");
}

TEST_CASE("a malformed placeholder is refused with its line and column") {
  for (const char* bad : {"ok\nHello {{ user name }}", "ok\nHello {{}}", "ok\nHello {{name",
                          "ok\nHello {{{name}}}", "ok\nHello {{1st}}", "ok\nHello {{na-me}}"}) {
    INFO(bad);
    auto t = prompt_template::parse(bad);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().kind == prompt_error_kind::invalid_files);
    CHECK_THAT(t.error().message, Catch::StartsWith("line 2, column 7:"));
  }
}

TEST_CASE("text that is not UTF-8 is refused: it would break the JSON it is sent in") {
  CHECK(prompt_template::parse("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80").ok());
  for (const char* bad : {"a\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    auto t = prompt_template::parse(bad);
    REQUIRE_FALSE(t.ok());
    CHECK_THAT(t.error().message, Catch::Contains("UTF-8"));
  }
}
