// The upstream URL cache: each distinct URL is parsed once per thread.
#include <catch2/catch.hpp>

#include <string>

#include "net/upstream_url.hpp"

using sb::net::known_upstream_url;

TEST_CASE("known_upstream_url parses a URL once and hands the same result out again", "[upstream_url]") {
  std::string error;
  auto first = known_upstream_url("https://api.example.com:8443/v1/chat/completions?x=1", error);
  REQUIRE(first);
  CHECK(first->url.tls);
  CHECK(first->url.host == "api.example.com");
  CHECK(first->url.port == 8443);
  CHECK(first->url.host_header == "api.example.com:8443");
  CHECK(first->url.target == "/v1/chat/completions?x=1");
  CHECK(first->origin == "https://api.example.com:8443");
  auto again = known_upstream_url("https://api.example.com:8443/v1/chat/completions?x=1", error);
  CHECK(again == first);
  auto other = known_upstream_url("http://127.0.0.1/v1/messages", error);
  REQUIRE(other);
  CHECK(other != first);
  CHECK(other->origin == "http://127.0.0.1:80");
}

TEST_CASE("known_upstream_url says why a URL is refused - every time", "[upstream_url]") {
  for (int i = 0; i < 2; ++i) {
    std::string error;
    CHECK_FALSE(known_upstream_url("https://user:secret@api.example.com/v1", error));
    CHECK(error == "credentials in the url are not supported");
  }
}
