#pragma once
// The status line and header section of a response, written by hand into a
// reused buffer: cheaper than a Beast message, and the framing headers stay
// the server's to choose, whatever the handler passed.

#include <cstddef>
#include <string>

#include "net/http_server.hpp"

namespace sb::net {

struct response_framing {
  enum class body_kind { content_length, chunked, until_close };
  body_kind body = body_kind::content_length;
  std::size_t content_length = 0;
  bool close = false;              // "Connection: close"
  bool keep_alive_header = false;  // an HTTP/1.0 client that asked for keep-alive
};

/// Whether the handler's headers ask for the connection to close.
[[nodiscard]] bool asks_to_close(const header_list& headers);

/// Replaces `out` with the head. The handler's Content-Length,
/// Transfer-Encoding and Connection are dropped (the framing decides them),
/// and so is any header with CR or LF in it (no response splitting).
void write_response_head(std::string& out, int status, const header_list& headers,
                         const response_framing& framing);

}  // namespace sb::net
