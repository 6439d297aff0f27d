#pragma once
// The front door: an async HTTP/1.1 server on a fixed pool of I/O threads.
// It parses, enforces limits and timeouts, and hands each request to a
// handler with a responder; it knows no route and no business rule.
// The header keeps Beast and asio out.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace sb::net {

class io_threads;

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_request {
  std::string method;   // "GET", "POST", …
  std::string target;   // path plus query, as sent
  std::string path;     // target without the query
  std::string query;    // after '?', without it
  header_list headers;  // names lowercased, in arrival order
  std::string body;
  std::string remote;   // peer address, for logs

  /// First header with this (lowercase) name, if any.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

/// How a handler answers. Thread-safe: any thread may call it; the work runs
/// on the connection's thread (at once when called there, else posted). Exactly one of respond() or
/// start_stream()…finish() per request; later calls are ignored.
class responder {
 public:
  virtual ~responder() = default;
  /// A whole response with Content-Length.
  virtual void respond(int status, header_list headers, std::string body) = 0;
  /// Sends the status line and headers now; the body follows as chunks
  /// (Transfer-Encoding: chunked). Content-Type is the caller's to set.
  virtual void start_stream(int status, header_list headers) = 0;
  /// One body piece, written as soon as the socket allows, in call order.
  virtual void write(std::string data) = 0;
  /// Ends the streamed body (the terminating chunk).
  virtual void finish() = 0;
  /// Runs once, on an I/O thread, when the client goes away before the
  /// response was finished (EOF, reset, write error, stalled writer). Set it
  /// before starting work; if the client is already gone it runs at once.
  virtual void on_client_gone(std::function<void()> fn) = 0;
  /// Bytes handed to write() that have not reached the socket yet: the
  /// back-pressure signal a producer may poll.
  [[nodiscard]] virtual std::size_t pending_bytes() const = 0;
};

using request_handler = std::function<void(http_request, std::shared_ptr<responder>)>;

struct http_server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;        // 0 = pick a free port (tests)
  std::size_t max_body_bytes = 8u << 20;   // larger -> 413
  std::size_t max_header_bytes = 16u << 10; // larger -> 431
  std::chrono::milliseconds read_timeout{30000};  // whole request must arrive in this
  std::chrono::milliseconds idle_timeout{60000};  // keep-alive with nothing sent
  std::chrono::milliseconds write_stall_timeout{30000};  // a reader that stops reading
};

class http_server {
 public:
  /// `ioc` must be run by one thread: connections use its executor, not a
  /// strand (http_connection.hpp).
  http_server(boost::asio::io_context& ioc, http_server_options opts, request_handler handler);
  /// Accepts on the first context and gives each connection the next one in
  /// turn: a connection lives on one thread.
  http_server(io_threads& threads, http_server_options opts, request_handler handler);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and starts accepting. Returns the bound port, or an error text.
  std::pair<std::uint16_t, std::string> listen();
  /// Stops accepting; open connections finish their current request and
  /// close instead of waiting for another (SIGTERM drain).
  void stop_accepting();
  /// Requests read but not yet answered completely (responses in flight).
  [[nodiscard]] std::size_t in_flight() const;
  /// Closes every connection now (end of drain).
  void close_all();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace sb::net
