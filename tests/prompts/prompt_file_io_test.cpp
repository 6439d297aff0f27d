#include <catch2/catch.hpp>

#include <filesystem>

#include "prompts/prompt_file_io.hpp"
#include "temp_prompt_dir.hpp"

using namespace sb::prompts;
using sb::prompts::testing::temp_prompt_dir;

TEST_CASE("write_file_atomically replaces the whole file and leaves no temp file") {
  temp_prompt_dir t;
  t.write("a/file", "old content that is longer");
  REQUIRE_FALSE(write_file_atomically(t.path("a/file"), "new"));
  CHECK(t.read("a/file") == "new");
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(t.path("a"))) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("write_file_atomically reports a directory it cannot write in") {
  temp_prompt_dir t;
  auto e = write_file_atomically(t.path("no/such/dir/file"), "x");
  REQUIRE(e);
  CHECK(e->kind == prompt_error_kind::io_failed);
  CHECK_THAT(e->message, Catch::Contains("no/such/dir"));
}

TEST_CASE("create_new_file never replaces an existing file") {
  temp_prompt_dir t;
  t.write("a/v1.txt", "original");
  auto e = create_new_file(t.path("a/v1.txt"), "replacement");
  REQUIRE(e);
  CHECK_THAT(e->message, Catch::Contains("already exists"));
  CHECK(t.read("a/v1.txt") == "original");
  REQUIRE_FALSE(create_new_file(t.path("a/v2.txt"), "second"));
  CHECK(t.read("a/v2.txt") == "second");
}

TEST_CASE("read_whole_file names a file it cannot read") {
  temp_prompt_dir t;
  auto r = read_whole_file(t.path("absent.txt"));
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("absent.txt"));
}
