// --listen / GATEWAY_LISTEN parsing, and the loopback test behind SPEC
// section 1's "open mode refuses a non-loopback address".

#include <arpa/inet.h>
#include <cctype>
#include <cstring>
#include <netinet/in.h>

#include "core/config.hpp"

namespace sb {
namespace {

std::optional<std::uint16_t> parse_port(const std::string& s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (unsigned char c : s) {
    if (!std::isdigit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  // 0 asks the OS for a free port: tests use it.
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

bool is_ipv6_literal(const std::string& host) {
  in6_addr addr{};
  return ::inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

// Hostnames and IPv4 literals: letters, digits, '-', '.' and '_'.
bool is_plain_host(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  for (unsigned char c : host)
    if (!(std::isalnum(c) || c == '-' || c == '.' || c == '_')) return false;
  return true;
}

}  // namespace

std::optional<std::pair<std::string, std::uint16_t>> parse_listen_address(const std::string& s) {
  std::string host;
  std::string port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return std::nullopt;
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
    if (!is_ipv6_literal(host)) return std::nullopt;
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    // A bare IPv6 address ("::1:8080") is ambiguous: it needs brackets.
    if (!is_plain_host(host)) return std::nullopt;
  }
  auto number = parse_port(port);
  if (!number) return std::nullopt;
  return std::make_pair(host, *number);
}

bool is_loopback_host(const std::string& raw) {
  std::string host = raw;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::string lower;
  for (unsigned char c : host) lower += static_cast<char>(std::tolower(c));
  if (lower == "localhost" || lower == "localhost.") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    // ::ffff:127.x.y.z is IPv4 loopback seen through a dual-stack socket.
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace sb
