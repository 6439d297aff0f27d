#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/workspace_auth.hpp"
#include "prompts/prompt_files.hpp"
#include "prompts/prompt_library.hpp"
#include "temp_prompt_dir.hpp"

using namespace sb::prompts;
using sb::prompts::testing::temp_prompt_dir;
using nlohmann::json;

TEST_CASE("new writes an empty v1.txt for a new name - creating the folders") {
  temp_prompt_dir t;
  auto created = create_next_version(t.dir(), "greeting");
  REQUIRE(created.ok());
  CHECK(created.value().version == 1);
  CHECK(created.value().path == t.path("greeting/v1.txt"));
  CHECK(t.exists("greeting/v1.txt"));
  CHECK(t.read("greeting/v1.txt").empty());
}

TEST_CASE("new copies the newest version into the next number") {
  temp_prompt_dir t;
  t.write("greeting/v1.txt", "one");
  t.write("greeting/v2.txt", "two {{name}}");
  auto created = create_next_version(t.dir(), "greeting");
  REQUIRE(created.ok());
  CHECK(created.value().version == 3);
  CHECK(t.read("greeting/v3.txt") == "two {{name}}");
  CHECK(t.read("greeting/v2.txt") == "two {{name}}");
}

TEST_CASE("new refuses a name that is not a prompt name") {
  temp_prompt_dir t;
  for (const char* bad : {"", "../x", "a/b", ".hidden", "has space"}) {
    INFO(bad);
    CHECK_FALSE(create_next_version(t.dir(), bad).ok());
  }
}

TEST_CASE("lock records every new version's sha256 and nothing else") {
  temp_prompt_dir t;
  t.write("greeting/v1.txt", "one");
  t.write("greeting/v2.txt", "two");
  t.write("summary/v1.txt", "sum {{text}}");
  auto first = lock_new_versions(t.dir());
  REQUIRE(first.ok());
  CHECK(first.value().size() == 3);

  auto lock = json::parse(t.read("prompts.lock"));
  CHECK(lock["greeting"]["1"] == sb::sha256_hex("one"));
  CHECK(lock["greeting"]["2"] == sb::sha256_hex("two"));
  CHECK(lock["summary"]["1"] == sb::sha256_hex("sum {{text}}"));

  const std::string before = t.read("prompts.lock");
  auto again = lock_new_versions(t.dir());
  REQUIRE(again.ok());
  CHECK(again.value().empty());
  CHECK(t.read("prompts.lock") == before);

  t.write("greeting/v3.txt", "three");
  auto third = lock_new_versions(t.dir());
  REQUIRE(third.ok());
  CHECK(third.value() == std::vector<std::string>{t.path("greeting/v3.txt")});
}

TEST_CASE("lock writes versions in numeric order - so v10 follows v9") {
  temp_prompt_dir t;
  for (int i = 1; i <= 10; ++i) t.write("greeting/v" + std::to_string(i) + ".txt", std::to_string(i));
  REQUIRE(lock_new_versions(t.dir()).ok());
  const std::string text = t.read("prompts.lock");
  CHECK(text.find("\"9\"") < text.find("\"10\""));
}

TEST_CASE("lock refuses to rewrite an entry: a changed locked file is tampering") {
  temp_prompt_dir t;
  t.write_locked("greeting/v1.txt", "one");
  const std::string before = t.read("prompts.lock");
  t.write("greeting/v1.txt", "one, edited");
  t.write("greeting/v2.txt", "two");
  auto locked = lock_new_versions(t.dir());
  REQUIRE_FALSE(locked.ok());
  CHECK(locked.error().subject == t.path("greeting/v1.txt"));
  CHECK_THAT(locked.error().message, Catch::Contains("greeting/v1.txt") && Catch::Contains("changed"));
  CHECK(t.read("prompts.lock") == before);  // v2 was not locked either
}

TEST_CASE("lock refuses a version that does not parse: once locked it could not be fixed") {
  temp_prompt_dir t;
  t.write("greeting/v1.txt", "Hello {{ user name }}");
  auto locked = lock_new_versions(t.dir());
  REQUIRE_FALSE(locked.ok());
  CHECK_THAT(locked.error().message, Catch::Contains("greeting/v1.txt") && Catch::Contains("line 1"));
  CHECK_FALSE(t.exists("prompts.lock"));
}

TEST_CASE("new - lock and load work together") {
  temp_prompt_dir t;
  REQUIRE(create_next_version(t.dir(), "greeting").ok());
  t.write("greeting/v1.txt", "Hello {{name}}");
  REQUIRE(lock_new_versions(t.dir()).ok());
  REQUIRE(create_next_version(t.dir(), "greeting").ok());  // v2, a draft
  auto lib = prompt_library::load(t.dir());
  REQUIRE(lib.ok());
  CHECK(lib.value()->render("greeting", "u", std::nullopt, {{"name", "Ada"}}).value().text == "Hello Ada");
}

TEST_CASE("describe lists prompts - versions - lock state and rollout") {
  temp_prompt_dir t;
  t.write("faq/v1.txt", "faq");
  t.write("greeting/v1.txt", "one");
  t.write("greeting/v2.txt", "two");
  t.write_locked("greeting/v3.txt", "three");
  t.write("greeting/v4.txt", "draft");
  t.write("greeting/rollout.json", R"({"stable": 2, "canary": {"version": 3, "percent": 10}})");
  t.write("faq/v1.txt", "faq, edited");

  auto text = describe_prompts(t.dir());
  REQUIRE(text.ok());
  CHECK(text.value() ==
        "faq: nothing served yet (no locked version)\n"
        "  v1  CHANGED since locked\n"
        "greeting: stable v2, canary v3 for 10% of users (rollout.json)\n"
        "  v1  locked\n"
        "  v2  locked\n"
        "  v3  locked\n"
        "  v4  not locked\n");
}

TEST_CASE("describe of an empty directory says so") {
  temp_prompt_dir t;
  CHECK(describe_prompts(t.dir()).value() == "no prompts in " + t.dir() + "\n");
}
