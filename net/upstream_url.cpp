#include "net/upstream_url.hpp"

#include <functional>
#include <map>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace sb::net {

std::string upstream_url::origin() const {
  std::string key = tls ? "https://" : "http://";
  key += host;
  key += ':';
  key += std::to_string(port);
  return key;
}

std::optional<upstream_url> parse_upstream_url(std::string_view text, std::string& error) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) {
    error = "invalid url: " + parsed.error().message();
    return std::nullopt;
  }
  const boost::urls::url_view& url = *parsed;
  upstream_url out;
  if (url.scheme_id() == boost::urls::scheme::https) {
    out.tls = true;
    out.port = 443;
  } else if (url.scheme_id() == boost::urls::scheme::http) {
    out.port = 80;
  } else {
    error = "unsupported url scheme: " + std::string(url.scheme());
    return std::nullopt;
  }
  if (url.has_userinfo()) {
    error = "credentials in the url are not supported";
    return std::nullopt;
  }
  out.host = url.host_address();
  if (out.host.empty()) {
    error = "url has no host";
    return std::nullopt;
  }
  using boost::urls::host_type;
  out.host_is_ip = url.host_type() == host_type::ipv4 || url.host_type() == host_type::ipv6 ||
                   url.host_type() == host_type::ipvfuture;
  // A port that says nothing, as in "http://h:/", is the scheme's default.
  if (url.has_port() && !url.port().empty()) {
    if (url.port_number() == 0) {
      error = "invalid port in url: " + std::string(url.port());
      return std::nullopt;
    }
    out.port = url.port_number();
  }
  out.host_header = url.encoded_host();
  if (out.port != (out.tls ? 443 : 80)) {
    out.host_header += ':';
    out.host_header += std::to_string(out.port);
  }
  out.target = url.encoded_target();
  if (out.target.empty() || out.target.front() != '/') {
    out.target.insert(0, "/");
  }
  return out;
}

std::shared_ptr<const parsed_upstream_url> known_upstream_url(std::string_view text, std::string& error) {
  // A handful of URLs per gateway (the providers', the tools'): a small map,
  // emptied if something feeds it unbounded variety.
  constexpr std::size_t max_known = 256;
  thread_local std::map<std::string, std::shared_ptr<const parsed_upstream_url>, std::less<>> known;
  if (auto it = known.find(text); it != known.end()) return it->second;
  auto url = parse_upstream_url(text, error);
  if (!url) return nullptr;
  auto entry = std::make_shared<parsed_upstream_url>();
  entry->origin = url->origin();
  entry->url = std::move(*url);
  if (known.size() >= max_known) known.clear();
  known.emplace(std::string(text), entry);
  return entry;
}

}  // namespace sb::net
