#include <catch2/catch.hpp>

#include <sstream>

#include "prompts/prompts_command.hpp"
#include "temp_prompt_dir.hpp"

using namespace sb::prompts;
using sb::prompts::testing::temp_prompt_dir;

namespace {

struct run_result {
  int code = -1;
  std::string out, err;
};

run_result run(std::vector<std::string> args) {
  std::ostringstream out, err;
  run_result r;
  r.code = run_prompts_command(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

}  // namespace

TEST_CASE("prompts new prints the path it wrote and never overwrites") {
  temp_prompt_dir t;
  auto first = run({"new", "greeting", "--dir", t.dir()});
  CHECK(first.code == 0);
  CHECK(first.out == t.path("greeting/v1.txt") + "\n");

  t.write("greeting/v1.txt", "Hello {{name}}");
  auto second = run({"--dir=" + t.dir(), "new", "greeting"});
  CHECK(second.code == 0);
  CHECK(second.out == t.path("greeting/v2.txt") + "\n");
  CHECK(t.read("greeting/v2.txt") == "Hello {{name}}");
  CHECK(t.read("greeting/v1.txt") == "Hello {{name}}");
}

TEST_CASE("prompts lock - then list - a tampered file makes both exit 2 naming it") {
  temp_prompt_dir t;
  t.write("greeting/v1.txt", "Hello {{name}}");
  auto locked = run({"lock", "--dir", t.dir()});
  CHECK(locked.code == 0);
  CHECK(locked.out == "locked " + t.path("greeting/v1.txt") + "\n");
  CHECK(run({"lock", "--dir", t.dir()}).out == "nothing to lock: every version is in prompts.lock\n");

  auto listed = run({"list", "--dir", t.dir()});
  CHECK(listed.code == 0);
  CHECK(listed.out == "greeting: stable v1 (newest locked; no rollout.json)\n  v1  locked\n");

  t.write("greeting/v1.txt", "Hello {{name}}, edited");
  auto tampered = run({"lock", "--dir", t.dir()});
  CHECK(tampered.code == 2);
  CHECK_THAT(tampered.err, Catch::Contains(t.path("greeting/v1.txt")));
  auto checked = run({"list", "--dir", t.dir()});
  CHECK(checked.code == 2);
  CHECK_THAT(checked.out, Catch::Contains("CHANGED since locked"));
  CHECK_THAT(checked.err, Catch::Contains("would not start") && Catch::Contains(t.path("greeting/v1.txt")));
}

TEST_CASE("prompts without a command - with an unknown one or bad options exits 2 with usage") {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {}, {"frobnicate"}, {"list", "--dir"}, {"list", "--verbose"}, {"new"}, {"new", "a", "b"}}) {
    auto r = run(args);
    CHECK(r.code == 2);
    CHECK_FALSE(r.err.empty());
  }
  auto help = run({"--help"});
  CHECK(help.code == 0);
  CHECK_THAT(help.out, Catch::Contains("usage: switchboard prompts"));
}
