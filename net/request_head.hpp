#pragma once
// The request line and header section of an upstream call, written by hand:
// a Beast request message cost an allocation per header and a serializer
// pass per call (callgrind: ~15k instructions of a ~200k request). Framing
// (Host, Content-Length) is ours to set, whatever the caller passed.

#include <optional>
#include <string>
#include <string_view>

#include "net/upstream_client.hpp"
#include "net/upstream_url.hpp"

namespace sb::net {

/// Replaces `out` with the head of `method url.target HTTP/1.1`. Host comes
/// from the URL and Content-Length from `body_size` (the caller's copies and
/// any Transfer-Encoding are dropped); Connection: keep-alive unless the
/// caller set a Connection. Returns why it cannot be sent instead: a method
/// or header name that is not an HTTP token, or a value with CR, LF or NUL
/// (no request splitting).
std::optional<std::string> write_request_head(std::string& out, std::string_view method,
                                              const header_list& headers, std::size_t body_size,
                                              const upstream_url& url);

}  // namespace sb::net
