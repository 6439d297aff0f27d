#include "net/response_head.hpp"

#include <charconv>
#include <ostream>  // Boost 1.81's core/detail/string_view.hpp uses it without including it
#include <string_view>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>

namespace sb::net {

namespace {

namespace http = boost::beast::http;
using boost::beast::iequals;

bool is_framing_header(std::string_view name) {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
         iequals(name, "connection");
}

// A plain loop: find_first_of runs a memchr over the needle per character.
bool is_safe(std::string_view s) {
  for (char c : s)
    if (c == '\r' || c == '\n') return false;
  return true;
}

bool status_has_no_body(int status) { return status / 100 == 1 || status == 204 || status == 304; }

void append_number(std::string& out, std::size_t n) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, n).ptr);
}

}  // namespace

bool asks_to_close(const header_list& headers) {
  for (const auto& [name, value] : headers)
    if (iequals(name, "connection") && iequals(value, "close")) return true;
  return false;
}

void write_response_head(std::string& out, int status, const header_list& headers,
                         const response_framing& framing) {
  out.clear();
  out += "HTTP/1.1 ";
  append_number(out, static_cast<std::size_t>(status));
  out += ' ';
  const std::string_view reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
  out += reason;
  out += "\r\n";
  for (const auto& [name, value] : headers) {
    if (name.empty() || is_framing_header(name) || !is_safe(name) || !is_safe(value)) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  switch (framing.body) {
    case response_framing::body_kind::content_length:
      if (!status_has_no_body(status)) {
        out += "Content-Length: ";
        append_number(out, framing.content_length);
        out += "\r\n";
      }
      break;
    case response_framing::body_kind::chunked:
      out += "Transfer-Encoding: chunked\r\n";
      break;
    case response_framing::body_kind::until_close:
      break;
  }
  if (framing.close)
    out += "Connection: close\r\n";
  else if (framing.keep_alive_header)
    out += "Connection: keep-alive\r\n";
  out += "\r\n";
}

}  // namespace sb::net
