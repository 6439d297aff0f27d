#pragma once
// An upstream URL taken apart into what a connection and a request need.
// Internal to net/: the client's public header speaks in plain strings.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sb::net {

struct upstream_url {
  bool tls = false;
  std::string host;         // for DNS, SNI and certificate checks: no brackets, decoded
  std::uint16_t port = 0;   // always set, defaulted from the scheme
  std::string host_header;  // what goes in Host: the port only when not the default
  std::string target;       // path and query as sent, at least "/"
  bool host_is_ip = false;  // IP literals get no SNI (RFC 6066)

  /// "https://host:port": connections are pooled per origin.
  [[nodiscard]] std::string origin() const;
};

/// Parses an absolute http(s) URL. On failure returns nothing and says why
/// in `error`; userinfo is refused so that no secret rides in a URL.
std::optional<upstream_url> parse_upstream_url(std::string_view text, std::string& error);

/// A parsed URL and its origin, as remembered per thread by known_upstream_url.
struct parsed_upstream_url {
  upstream_url url;
  std::string origin;
};

/// parse_upstream_url, remembered per thread: a gateway calls the same few
/// provider URLs over and over, and parsing one cost ~5k instructions a call.
/// Failures are not remembered. Shared: an entry outlives a cache reset.
std::shared_ptr<const parsed_upstream_url> known_upstream_url(std::string_view text, std::string& error);

}  // namespace sb::net
