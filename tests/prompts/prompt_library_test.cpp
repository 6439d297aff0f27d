#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/workspace_auth.hpp"
#include "prompts/bucketing.hpp"
#include "prompts/prompt_library.hpp"
#include "temp_prompt_dir.hpp"

using namespace sb::prompts;
using sb::prompts::testing::temp_prompt_dir;
using nlohmann::json;

namespace {

std::shared_ptr<const prompt_library> loaded(const temp_prompt_dir& t) {
  auto lib = prompt_library::load(t.dir());
  if (!lib) FAIL("load failed: " << lib.error().message);
  return lib.value();
}

prompt_error load_error(const temp_prompt_dir& t) {
  auto lib = prompt_library::load(t.dir());
  REQUIRE_FALSE(lib.ok());
  return lib.error();
}

int chosen_version(const prompt_library& lib, const std::string& name, const std::string& user,
                   std::optional<int> version = {}) {
  auto c = lib.choose(name, user, version);
  if (!c) FAIL("choose failed: " << c.error().message);
  return c.value().version;
}

// greeting v1..v3 locked, with a 10% canary of v3 over stable v2.
void write_canary_setup(const temp_prompt_dir& t) {
  t.write("greeting/v1.txt", "Hi {{name}}.");
  t.write("greeting/v2.txt", "Hello {{name}}.");
  t.write_locked("greeting/v3.txt", "Welcome, {{name}}!");
  t.write("greeting/rollout.json", R"({"stable": 2, "canary": {"version": 3, "percent": 10}})");
}

}  // namespace

TEST_CASE("a missing prompts directory is an empty library") {
  temp_prompt_dir t;
  auto lib = loaded(t);
  CHECK(lib->prompts().empty());
  auto c = lib->choose("greeting", "u", std::nullopt);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().kind == prompt_error_kind::unknown_prompt);
  CHECK(to_api_error(c.error()).status == 404);
}

TEST_CASE("versions and the lock load - without rollout.json the newest version is stable") {
  temp_prompt_dir t;
  t.write("greeting/v1.txt", "Hi {{name}}.");
  t.write_locked("greeting/v2.txt", "Hello {{name}}.");
  auto lib = loaded(t);
  const prompt* p = lib->find("greeting");
  REQUIRE(p);
  CHECK(p->versions.size() == 2);
  CHECK(p->versions.at(2).locked);
  CHECK(p->versions.at(2).tmpl->variables() == std::vector<std::string>{"name"});
  CHECK(lib->warnings().empty());
  for (int i = 0; i < 50; ++i) CHECK(chosen_version(*lib, "greeting", "user-" + std::to_string(i)) == 2);
  CHECK(lib->choose("greeting", "u", std::nullopt).value().header_value() == "greeting@v2");
}

TEST_CASE("a locked file that changed stops the load with the file's name") {
  temp_prompt_dir t;
  t.write_locked("greeting/v1.txt", "Hello {{name}}.");
  t.write("greeting/v1.txt", "Hello {{name}}!!");
  auto e = load_error(t);
  CHECK(e.kind == prompt_error_kind::invalid_files);
  CHECK(e.subject == t.path("greeting/v1.txt"));
  CHECK_THAT(e.message, Catch::StartsWith(t.path("greeting/v1.txt")) && Catch::Contains("changed"));
}

TEST_CASE("a locked file that was deleted stops the load with the file's name") {
  temp_prompt_dir t;
  t.write("greeting/v1.txt", "one");
  t.write_locked("greeting/v2.txt", "two");
  std::filesystem::remove(t.path("greeting/v1.txt"));
  auto e = load_error(t);
  CHECK_THAT(e.message, Catch::Contains("greeting/v1.txt") && Catch::Contains("missing"));
}

TEST_CASE("a malformed prompts.lock stops the load naming it") {
  temp_prompt_dir t;
  t.write("greeting/v1.txt", "one");
  for (const char* bad : {"{", R"({"greeting": {"1": "abc"}})", R"({"greeting": {"x": "abc"}})", "[]"}) {
    INFO(bad);
    t.write("prompts.lock", bad);
    CHECK_THAT(load_error(t).message, Catch::Contains("prompts.lock"));
  }
}

TEST_CASE("an unlocked version is listed and warned about but never served") {
  temp_prompt_dir t;
  t.write_locked("greeting/v1.txt", "locked");
  t.write("greeting/v2.txt", "draft");
  auto lib = loaded(t);
  REQUIRE(lib->warnings().size() == 1);
  CHECK_THAT(lib->warnings()[0], Catch::Contains("greeting/v2.txt") && Catch::Contains("not locked"));
  CHECK_FALSE(lib->find("greeting")->versions.at(2).servable());
  CHECK(chosen_version(*lib, "greeting", "u") == 1);  // the newest *locked* version

  auto explicit_draft = lib->choose("greeting", "u", 2);
  REQUIRE_FALSE(explicit_draft.ok());
  CHECK(explicit_draft.error().kind == prompt_error_kind::unknown_version);
  CHECK_THAT(explicit_draft.error().message, Catch::Contains("prompts lock"));
}

TEST_CASE("a prompt with nothing locked loads but answers 404") {
  temp_prompt_dir t;
  t.write("greeting/v1.txt", "draft");
  auto lib = loaded(t);
  auto c = lib->choose("greeting", "u", std::nullopt);
  REQUIRE_FALSE(c.ok());
  CHECK(to_api_error(c.error()).status == 404);
}

TEST_CASE("an unlocked draft that does not parse is a warning - a locked one stops the load") {
  temp_prompt_dir t;
  t.write_locked("greeting/v1.txt", "fine");
  t.write("greeting/v2.txt", "broken {{");
  auto lib = loaded(t);
  CHECK(lib->warnings().size() == 2);
  CHECK(chosen_version(*lib, "greeting", "u") == 1);

  // A hand-written lock entry for a broken file: the lock CLI would refuse it.
  temp_prompt_dir u;
  u.write("greeting/v1.txt", "broken {{");
  u.write("prompts.lock", R"({"greeting": {"1": ")" + sb::sha256_hex("broken {{") + "\"}}");
  auto e = load_error(u);
  CHECK_THAT(e.message, Catch::Contains("greeting/v1.txt") && Catch::Contains("line 1, column 8"));
}

TEST_CASE("rollout.json picks stable and canary - a user sticks to one version") {
  temp_prompt_dir t;
  write_canary_setup(t);
  auto lib = loaded(t);
  for (int i = 0; i < 200; ++i) {
    const std::string user = "user-" + std::to_string(i);
    const int expected = in_canary("greeting", user, 10) ? 3 : 2;
    auto c = lib->choose("greeting", user, std::nullopt);
    REQUIRE(c.ok());
    CHECK(c.value().version == expected);
    CHECK(c.value().canary == (expected == 3));
    // Every request, and every node that loads the same files, agrees.
    CHECK(chosen_version(*lib, "greeting", user) == expected);
    CHECK(chosen_version(*loaded(t), "greeting", user) == expected);
  }
}

TEST_CASE("with a 10% canary - 10 -000 distinct users get the canary within one point of 10%") {
  temp_prompt_dir t;
  write_canary_setup(t);
  auto lib = loaded(t);
  int canary = 0;
  for (int i = 0; i < 10000; ++i)
    if (chosen_version(*lib, "greeting", "user-" + std::to_string(i)) == 3) ++canary;
  CHECK(canary >= 900);
  CHECK(canary <= 1100);
}

TEST_CASE("an explicit version overrides the rollout - an unknown one is a 404") {
  temp_prompt_dir t;
  write_canary_setup(t);
  auto lib = loaded(t);
  for (int i = 0; i < 50; ++i) {
    auto c = lib->choose("greeting", "user-" + std::to_string(i), 1);
    REQUIRE(c.ok());
    CHECK(c.value().version == 1);
    CHECK_FALSE(c.value().canary);
  }
  auto e = lib->choose("greeting", "u", 9);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().kind == prompt_error_kind::unknown_version);
  CHECK(to_api_error(e.error()).status == 404);
  CHECK(to_api_error(e.error()).param == std::optional<std::string>("prompt.version"));
}

TEST_CASE("render chooses and fills in one call") {
  temp_prompt_dir t;
  write_canary_setup(t);
  auto lib = loaded(t);
  auto r = lib->render("greeting", "u", 1, {{"name", "Ada"}});
  REQUIRE(r.ok());
  CHECK(r.value().text == "Hi Ada.");
  CHECK(r.value().header_value() == "greeting@v1");

  auto missing = lib->render("greeting", "u", 1, json::object());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == prompt_error_kind::missing_variable);
  CHECK(missing.error().subject == "name");
}

TEST_CASE("rollout.json naming an absent or unlocked version stops the load naming the file") {
  temp_prompt_dir t;
  t.write_locked("greeting/v1.txt", "one");
  t.write("greeting/v2.txt", "draft");
  for (const char* bad : {R"({"stable": 5})", R"({"stable": 1, "canary": {"version": 2, "percent": 5}})",
                          R"({"stable": 1, "canary": {"version": 1, "percent": 101}})"}) {
    INFO(bad);
    t.write("greeting/rollout.json", bad);
    auto e = load_error(t);
    CHECK_THAT(e.message, Catch::StartsWith(t.path("greeting/rollout.json")));
  }
}

TEST_CASE("with_rollout swaps the split in a copy and refuses versions that are not locked") {
  temp_prompt_dir t;
  write_canary_setup(t);
  auto lib = loaded(t);

  auto all_canary = lib->with_rollout("greeting", rollout{2, canary_split{3, 100}});
  REQUIRE(all_canary.ok());
  CHECK(chosen_version(*all_canary.value(), "greeting", "anyone") == 3);
  CHECK(lib->find("greeting")->rollout_file->canary->percent == 10);  // the old snapshot is untouched

  auto bad = lib->with_rollout("greeting", rollout{7, std::nullopt});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == prompt_error_kind::invalid_rollout);
  auto unknown = lib->with_rollout("nope", rollout{1, std::nullopt});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().kind == prompt_error_kind::unknown_prompt);
}

TEST_CASE("the request's version field is digits or a positive integer") {
  CHECK(parse_requested_version(json()).value() == std::nullopt);
  CHECK(parse_requested_version("3").value() == 3);
  CHECK(parse_requested_version(12).value() == 12);
  for (json bad : {json("v3"), json("03"), json(""), json(0), json(-1), json(2.5), json::array()}) {
    INFO(bad.dump());
    auto v = parse_requested_version(bad);
    REQUIRE_FALSE(v.ok());
    CHECK(to_api_error(v.error()).status == 400);
  }
}

TEST_CASE("a folder name that could never be served stops the load") {
  temp_prompt_dir t;
  t.write("bad name/v1.txt", "x");
  CHECK_THAT(load_error(t).message, Catch::Contains("bad name"));
}
