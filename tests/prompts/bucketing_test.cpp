#include <catch2/catch.hpp>

#include <string>

#include "prompts/bucketing.hpp"

using namespace sb::prompts;

TEST_CASE("fnv1a64 matches the published FNV-1a test vectors") {
  CHECK(fnv1a64("") == 14695981039346656037ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ULL);
}

TEST_CASE("the bucket is fnv1a64(name + \":\" + user) % 100") {
  for (std::string user : {"", "alice", "user-42", "é"}) {
    INFO(user);
    CHECK(canary_bucket("greeting", user) ==
          static_cast<int>(fnv1a64("greeting:" + user) % 100));
  }
}

TEST_CASE("a user's bucket is the same on every call: sticky without shared state") {
  const int first = canary_bucket("greeting", "user-123");
  for (int i = 0; i < 100; ++i) CHECK(canary_bucket("greeting", "user-123") == first);
}

TEST_CASE("with a 10% canary - 10 -000 distinct users split within one point of 10%") {
  int in = 0;
  for (int i = 0; i < 10000; ++i)
    if (in_canary("greeting", "user-" + std::to_string(i), 10)) ++in;
  CHECK(in >= 900);
  CHECK(in <= 1100);
}

TEST_CASE("0% puts nobody in the canary - 100% everybody") {
  for (int i = 0; i < 1000; ++i) {
    const std::string user = "u" + std::to_string(i);
    CHECK_FALSE(in_canary("greeting", user, 0));
    CHECK(in_canary("greeting", user, 100));
  }
}

TEST_CASE("a canary's users are kept when its percent grows") {
  // bucket < 10 implies bucket < 20: raising the percent only adds users.
  for (int i = 0; i < 1000; ++i) {
    const std::string user = "u" + std::to_string(i);
    if (in_canary("greeting", user, 10)) CHECK(in_canary("greeting", user, 20));
  }
}

TEST_CASE("buckets of different prompts are independent") {
  // The name is hashed too, so the same 10% of users are not the guinea pigs
  // of every prompt's canary.
  int both = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string user = "user-" + std::to_string(i);
    if (in_canary("greeting", user, 10) && in_canary("summary", user, 10)) ++both;
  }
  CHECK(both < 200);  // independent: about 1%; identical would be 10%
}
