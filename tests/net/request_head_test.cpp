// write_request_head: the bytes an upstream call puts before its body.
#include <catch2/catch.hpp>

#include <string>

#include "net/request_head.hpp"

using sb::net::header_list;
using sb::net::upstream_url;
using sb::net::write_request_head;

namespace {

upstream_url url_of(const std::string& text) {
  std::string error;
  auto u = sb::net::parse_upstream_url(text, error);
  REQUIRE(u);
  return *u;
}

}  // namespace

TEST_CASE("request head: request line - caller headers - Host - keep-alive and length", "[request_head]") {
  std::string out = "left over from the last call";
  auto error = write_request_head(out, "POST", {{"Authorization", "Bearer k"}, {"Content-Type", "application/json"}},
                                  17, url_of("http://127.0.0.1:8081/v1/chat/completions?x=1"));
  REQUIRE_FALSE(error);
  CHECK(out ==
        "POST /v1/chat/completions?x=1 HTTP/1.1\r\n"
        "Authorization: Bearer k\r\n"
        "Content-Type: application/json\r\n"
        "Host: 127.0.0.1:8081\r\n"
        "Connection: keep-alive\r\n"
        "Content-Length: 17\r\n"
        "\r\n");
}

TEST_CASE("request head: the framing is ours - whatever the caller sent", "[request_head]") {
  std::string out;
  auto error = write_request_head(out, "POST",
                                  {{"host", "evil.example"}, {"Content-Length", "999"},
                                   {"Transfer-Encoding", "chunked"}, {"Connection", "close"}},
                                  0, url_of("https://api.example.com/v1/x"));
  REQUIRE_FALSE(error);
  CHECK(out ==
        "POST /v1/x HTTP/1.1\r\n"
        "Connection: close\r\n"
        "Host: api.example.com\r\n"
        "Content-Length: 0\r\n"  // a POST says so even when empty
        "\r\n");
}

TEST_CASE("request head: a GET without a body has no Content-Length", "[request_head]") {
  std::string out;
  REQUIRE_FALSE(write_request_head(out, "GET", {}, 0, url_of("http://h/")));
  CHECK(out == "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n");
}

TEST_CASE("request head: no request splitting through the method or a header", "[request_head]") {
  std::string out;
  auto u = url_of("http://h/");
  CHECK(write_request_head(out, "", {}, 0, u));
  CHECK(write_request_head(out, "POST /x HTTP/1.1\r\nX: y", {}, 0, u));
  CHECK(write_request_head(out, "POST", {{"X-Ok", "a\r\nInjected: yes"}}, 0, u));
  CHECK(write_request_head(out, "POST", {{"X-Ok", std::string("a\0b", 3)}}, 0, u));
  CHECK(write_request_head(out, "POST", {{"Bad Name", "v"}}, 0, u));
  CHECK(write_request_head(out, "POST", {{"", "v"}}, 0, u));
  auto error = write_request_head(out, "POST", {{"X-Trace", "a\nb"}}, 0, u);
  REQUIRE(error);
  CHECK(error->find("X-Trace") != std::string::npos);
}
