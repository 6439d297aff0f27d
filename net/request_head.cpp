#include "net/request_head.hpp"

#include <charconv>

#include <boost/beast/core/string.hpp>

namespace sb::net {

namespace {

using boost::beast::iequals;

// RFC 9110's tchar.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// A plain loop: find_first_of runs a memchr over the needle per character.
bool is_field_value(std::string_view s) {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

// A body-less request of these methods still says Content-Length: 0, as
// Beast's prepare_payload did: some servers answer 411 without it.
bool wants_length(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "OPTIONS";
}

}  // namespace

std::optional<std::string> write_request_head(std::string& out, std::string_view method,
                                              const header_list& headers, std::size_t body_size,
                                              const upstream_url& url) {
  if (!is_token(method)) return "invalid request: the method is not an HTTP token";
  out.clear();
  out.reserve(128 + url.target.size() + url.host_header.size() + headers.size() * 48);
  out.append(method);
  out += ' ';
  out += url.target;
  out += " HTTP/1.1\r\n";
  bool caller_set_connection = false;
  for (const auto& [name, value] : headers) {
    if (!is_token(name)) return "invalid request: header name '" + name + "' is not an HTTP token";
    if (!is_field_value(value)) return "invalid request: header '" + name + "' has a line break in its value";
    // Host and the body's framing follow from the URL and the body; a
    // caller's own copy could only disagree with them.
    if (iequals(name, "host") || iequals(name, "content-length") || iequals(name, "transfer-encoding")) continue;
    caller_set_connection = caller_set_connection || iequals(name, "connection");
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "Host: ";
  out += url.host_header;
  out += "\r\n";
  if (!caller_set_connection) out += "Connection: keep-alive\r\n";
  if (body_size > 0 || wants_length(method)) {
    char digits[24];
    out += "Content-Length: ";
    out.append(digits, std::to_chars(digits, digits + sizeof digits, body_size).ptr);
    out += "\r\n";
  }
  out += "\r\n";
  return std::nullopt;
}

}  // namespace sb::net
