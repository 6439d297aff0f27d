// message_parser: Beast's framing with our header_list and body string.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "net/message_parser.hpp"

using sb::net::header_list;
using sb::net::request_parser;
using sb::net::response_parser;
namespace http = boost::beast::http;
using error_code = boost::beast::error_code;

namespace {

// Feeds bytes as the connections do: eager, whatever is buffered at once,
// unused bytes kept for the next feed. Returns the last error: need_more
// only when bytes are left over, not when a body is merely unfinished.
template <class Parser>
class wire {
 public:
  explicit wire(Parser& p) : p_(p) {}
  error_code feed(std::string_view bytes) {
    buffered_ += bytes;
    error_code ec;
    while (!buffered_.empty() && !p_.is_done()) {
      const auto used = p_.put(boost::asio::buffer(buffered_.data(), buffered_.size()), ec);
      buffered_.erase(0, used);
      if (ec || used == 0) break;
    }
    return ec;
  }

 private:
  Parser& p_;
  std::string buffered_;
};

template <class Parser>
error_code put(Parser& p, std::string_view bytes) {
  return wire<Parser>(p).feed(bytes);
}

request_parser eager_request_parser() {
  request_parser p;
  p.eager(true);
  return p;
}

}  // namespace

TEST_CASE("message parser: request fields lowercased in arrival order with duplicates kept", "[message_parser]") {
  auto p = eager_request_parser();
  REQUIRE_FALSE(put(p,
                    "POST /v1/chat/completions?x=1 HTTP/1.1\r\n"
                    "Host: gw\r\n"
                    "X-Trace-ID: a\r\n"
                    "Content-Type: application/json\r\n"
                    "x-trace-id: b\r\n"
                    "Content-Length: 2\r\n"
                    "\r\n"
                    "{}"));
  REQUIRE(p.is_done());
  CHECK(p.method() == http::verb::post);
  CHECK(p.method_string() == "POST");
  CHECK(p.target() == "/v1/chat/completions?x=1");
  CHECK(p.version() == 11);
  CHECK(p.keep_alive());
  CHECK(p.headers() == header_list{{"host", "gw"},
                                   {"x-trace-id", "a"},
                                   {"content-type", "application/json"},
                                   {"x-trace-id", "b"},
                                   {"content-length", "2"}});
  CHECK(p.field("x-trace-id") == "a");  // the first of duplicates
  CHECK_FALSE(p.field("expect"));
  CHECK(p.body() == "{}");
}

TEST_CASE("message parser: a method Beast has no verb for keeps its text", "[message_parser]") {
  auto p = eager_request_parser();
  REQUIRE_FALSE(put(p, "BREW /pot HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  REQUIRE(p.is_done());
  CHECK(p.method() == http::verb::unknown);
  CHECK(p.method_string() == "BREW");
  CHECK(p.version() == 10);
  CHECK(p.keep_alive());  // HTTP/1.0 that asked for it
}

TEST_CASE("message parser: the head is readable while the body is still on its way", "[message_parser]") {
  auto p = eager_request_parser();
  REQUIRE_FALSE(put(p, "PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n"));
  REQUIRE(p.is_header_done());
  CHECK_FALSE(p.is_done());
  CHECK(p.field("expect") == "100-continue");
  REQUIRE_FALSE(put(p, "01234"));
  CHECK_FALSE(p.is_done());
  REQUIRE_FALSE(put(p, "56789"));
  CHECK(p.is_done());
  CHECK(p.body() == "0123456789");
}

TEST_CASE("message parser: header and body limits fail as Beast's parser did", "[message_parser]") {
  SECTION("a head over header_limit") {
    auto p = eager_request_parser();
    p.header_limit(64);
    CHECK(put(p, "GET / HTTP/1.1\r\nX-Long: " + std::string(100, 'a') + "\r\n\r\n") == http::error::header_limit);
  }
  SECTION("a declared length over body_limit") {
    auto p = eager_request_parser();
    p.body_limit(4);
    CHECK(put(p, "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n12345") == http::error::body_limit);
  }
  SECTION("chunks adding up to more than body_limit") {
    auto p = eager_request_parser();
    p.body_limit(4);
    CHECK(put(p, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n") ==
          http::error::body_limit);
  }
  SECTION("a body exactly at body_limit") {
    auto p = eager_request_parser();
    p.body_limit(4);
    REQUIRE_FALSE(put(p, "POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n1234"));
    CHECK(p.body() == "1234");
  }
}

TEST_CASE("message parser: a chunked request body is joined and its trailer is not a header", "[message_parser]") {
  auto p = eager_request_parser();
  REQUIRE_FALSE(put(p,
                    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n2\r\nde\r\n0\r\nX-Checksum: 1\r\n\r\n"));
  REQUIRE(p.is_done());
  CHECK(p.body() == "abcde");
  CHECK(p.headers() == header_list{{"transfer-encoding", "chunked"}});
}

TEST_CASE("message parser: a chunked response body taken out piece by piece", "[message_parser]") {
  response_parser p;
  p.eager(true);
  p.body_limit(boost::none);
  wire<response_parser> from(p);
  REQUIRE_FALSE(from.feed("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"));
  REQUIRE(p.is_header_done());
  CHECK(p.status() == 200);
  CHECK(p.field("content-type") == "text/event-stream");
  // cut inside a chunk's data and between a chunk and its CRLF
  std::vector<std::string> pieces;
  for (const std::string_view bytes : {"6\r\nda", "ta: \r\n", "3\r\n1", "\n\n\r\n0\r\n\r\n"}) {
    const auto ec = from.feed(bytes);
    CHECK((!ec || ec == http::error::need_more));
    pieces.push_back(std::move(p.body()));
    p.body().clear();
  }
  CHECK(p.is_done());
  CHECK(p.keep_alive());
  CHECK(pieces == std::vector<std::string>{"da", "ta: ", "1", "\n\n"});
}

TEST_CASE("message parser: a response body that ends at EOF", "[message_parser]") {
  response_parser p;
  p.eager(true);
  REQUIRE_FALSE(put(p, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":"));
  CHECK(p.need_eof());
  CHECK(p.body() == "{\"a\":");
  REQUIRE_FALSE(put(p, "1}"));
  CHECK_FALSE(p.is_done());
  error_code ec;
  p.put_eof(ec);
  REQUIRE_FALSE(ec);
  CHECK(p.is_done());
  CHECK_FALSE(p.keep_alive());
  CHECK(p.body() == "{\"a\":1}");
}

TEST_CASE("message parser: EOF inside a declared length is a partial message", "[message_parser]") {
  response_parser p;
  p.eager(true);
  REQUIRE_FALSE(put(p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345"));
  error_code ec;
  p.put_eof(ec);
  CHECK(ec == http::error::partial_message);
}

TEST_CASE("message parser: the answer to a HEAD has no body whatever its length says", "[message_parser]") {
  response_parser p;
  p.eager(true);
  p.skip(true);
  REQUIRE_FALSE(put(p, "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n"));
  CHECK(p.is_done());
  CHECK(p.body().empty());
  CHECK(p.headers() == header_list{{"content-length", "42"}});
}

TEST_CASE("message parser: an interim response is complete at its head", "[message_parser]") {
  response_parser p;
  p.eager(true);
  const std::string_view bytes = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  error_code ec;
  const auto used = p.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  REQUIRE_FALSE(ec);
  CHECK(p.is_done());
  CHECK(p.status() == 100);
  CHECK(used == std::string_view("HTTP/1.1 100 Continue\r\n\r\n").size());  // the real answer is the next parser's
}

TEST_CASE("message parser: bytes that are not HTTP fail with Beast's errors", "[message_parser]") {
  response_parser p;
  p.eager(true);
  const auto ec = put(p, "SSH-2.0-OpenSSH_9.6\r\n\r\n");
  CHECK(ec);
  CHECK(ec != http::error::need_more);
  CHECK(ec.category() == make_error_code(http::error::bad_version).category());
}
