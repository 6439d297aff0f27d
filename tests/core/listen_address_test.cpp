#include <catch2/catch.hpp>

#include "core/config.hpp"

using namespace sb;

TEST_CASE("parse_listen_address accepts host:port and [ipv6]:port") {
  using result = std::optional<std::pair<std::string, std::uint16_t>>;
  CHECK(parse_listen_address("127.0.0.1:8080") == result({"127.0.0.1", 8080}));
  CHECK(parse_listen_address("0.0.0.0:1") == result({"0.0.0.0", 1}));
  CHECK(parse_listen_address("localhost:65535") == result({"localhost", 65535}));
  CHECK(parse_listen_address("gateway.internal:443") == result({"gateway.internal", 443}));
  CHECK(parse_listen_address("[::1]:9000") == result({"::1", 9000}));
  CHECK(parse_listen_address("[::]:80") == result({"::", 80}));
  CHECK(parse_listen_address("127.0.0.1:0") == result({"127.0.0.1", 0}));  // any free port
}

TEST_CASE("parse_listen_address rejects what it cannot bind unambiguously") {
  for (const char* bad : {"", "8080", ":8080", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                          "127.0.0.1:80a", "::1:8080", "[::1]8080", "[::1]", "[nothost]:80",
                          "host name:80", "127.0.0.1:123456"}) {
    INFO(bad);
    CHECK_FALSE(parse_listen_address(bad));
  }
}

TEST_CASE("is_loopback_host: 127.0.0.0/8 - ::1 and localhost") {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "127.255.255.255", "::1", "[::1]",
                           "0:0:0:0:0:0:0:1", "localhost", "LOCALHOST", "::ffff:127.0.0.1"})
    CHECK(is_loopback_host(host));
  for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "192.168.1.1", "example.com",
                           "localhost.example.com", "127.0.0", "", "::2"})
    CHECK_FALSE(is_loopback_host(host));
}
