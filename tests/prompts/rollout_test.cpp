#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "prompts/rollout.hpp"
#include "temp_prompt_dir.hpp"

using namespace sb::prompts;
using nlohmann::json;

TEST_CASE("a rollout parses from SPEC's shape and writes back the same") {
  auto doc = json::parse(R"({"stable": 2, "canary": {"version": 3, "percent": 10}})");
  auto r = parse_rollout(doc);
  REQUIRE(r.ok());
  CHECK(r.value().stable == 2);
  REQUIRE(r.value().canary);
  CHECK(r.value().canary->version == 3);
  CHECK(r.value().canary->percent == 10);
  CHECK(rollout_to_json(r.value()) == doc);

  auto stable_only = parse_rollout(json::parse(R"({"stable": 1})"));
  REQUIRE(stable_only.ok());
  CHECK_FALSE(stable_only.value().canary);
}

TEST_CASE("percent is 0..100 - 0 and 100 are allowed") {
  for (int p : {0, 1, 50, 100})
    CHECK(parse_rollout({{"stable", 1}, {"canary", {{"version", 2}, {"percent", p}}}}).ok());
  for (json p : {json(-1), json(101), json(10.5), json("10"), json(nullptr)}) {
    INFO(p.dump());
    auto r = parse_rollout({{"stable", 1}, {"canary", {{"version", 2}, {"percent", p}}}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == prompt_error_kind::invalid_rollout);
    CHECK_THAT(r.error().message, Catch::Contains("percent"));
  }
}

TEST_CASE("malformed rollouts are refused - typos included") {
  for (const char* bad :
       {R"([])", R"({})", R"({"stable": 0})", R"({"stable": "2"})", R"({"stable": 2.0})",
        R"({"stable": 2, "canary": 3})", R"({"stable": 2, "canary": {"version": 3}})",
        R"({"stable": 2, "canary": {"version": 3, "precent": 10}})", R"({"stable": 2, "stabel": 3})"}) {
    INFO(bad);
    auto r = parse_rollout(json::parse(bad));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == prompt_error_kind::invalid_rollout);
    CHECK(sb::prompts::to_api_error(r.error()).status == 400);
  }
}

TEST_CASE("a rollout may only name servable versions") {
  rollout r{2, canary_split{3, 10}};
  CHECK_FALSE(check_rollout_versions(r, {1, 2, 3}, "greeting"));
  auto e = check_rollout_versions(r, {1, 2}, "greeting");
  REQUIRE(e);
  CHECK_THAT(e->message, Catch::Contains("canary version 3"));
  CHECK(check_rollout_versions(rollout{4, std::nullopt}, {1, 2}, "greeting"));
}

TEST_CASE("write_rollout replaces the file atomically and leaves no temp file") {
  sb::prompts::testing::temp_prompt_dir t;
  t.write("greeting/v1.txt", "hi");
  t.write("greeting/rollout.json", "{\"stable\": 1}");

  rollout r{1, canary_split{2, 25}};
  REQUIRE_FALSE(write_rollout(t.dir(), "greeting", r));
  CHECK(json::parse(t.read("greeting/rollout.json")) == rollout_to_json(r));

  auto back = read_rollout_file(t.dir(), "greeting");
  REQUIRE(back.ok());
  REQUIRE(back.value());
  CHECK(*back.value() == r);

  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(t.path("greeting"))) {
    (void)e;
    ++files;
  }
  CHECK(files == 2);  // v1.txt and rollout.json, no leftover temp file
}

TEST_CASE("write_rollout refuses an unknown prompt or a name that could escape the folder") {
  sb::prompts::testing::temp_prompt_dir t;
  t.write("greeting/v1.txt", "hi");
  rollout r{1, std::nullopt};
  auto unknown = write_rollout(t.dir(), "nope", r);
  REQUIRE(unknown);
  CHECK(unknown->kind == prompt_error_kind::unknown_prompt);
  CHECK(write_rollout(t.dir(), "../greeting", r));
  CHECK(write_rollout(t.dir(), "", r));
}

TEST_CASE("a rollout.json that is not valid is an error naming the file") {
  sb::prompts::testing::temp_prompt_dir t;
  t.write("greeting/rollout.json", "{\"stable\": ");
  auto r = read_rollout_file(t.dir(), "greeting");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("greeting/rollout.json"));
  CHECK(read_rollout_file(t.dir(), "other").value() == std::nullopt);
}
