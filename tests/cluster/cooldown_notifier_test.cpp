#include <catch2/catch.hpp>

#include "cluster/cooldown_notifier.hpp"

using sb::cluster::decode_key_cooldown;
using sb::cluster::encode_key_cooldown;
using sb::cluster::key_cooldown;

TEST_CASE("a key cooldown record carries ids and times and survives a round trip", "[cluster][cooldown]") {
  key_cooldown c{"openai", "openai#1", 1700000030000, false, 1700000000000};
  auto text = encode_key_cooldown(c);
  CHECK(text.find("sk-") == std::string::npos);
  auto back = decode_key_cooldown(text);
  REQUIRE(back);
  CHECK(back->provider == "openai");
  CHECK(back->key_id == "openai#1");
  CHECK(back->ready_at_ms == 1700000030000);
  CHECK_FALSE(back->invalid);
  CHECK(back->at_ms == 1700000000000);
}

TEST_CASE("a malformed key cooldown record is rejected", "[cluster][cooldown]") {
  CHECK_FALSE(decode_key_cooldown("not json"));
  CHECK_FALSE(decode_key_cooldown(R"({"provider": "openai"})"));
  CHECK_FALSE(decode_key_cooldown(R"({"provider": "", "key_id": "x", "ready_at_ms": 1, "invalid": false})"));
  CHECK_FALSE(decode_key_cooldown(R"([1, 2])"));
}
