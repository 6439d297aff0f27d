#pragma once
// HTTP/1.1 client for provider calls, over TCP or TLS (OpenSSL, system CA
// store, SNI, verification on), with a keep-alive pool per origin, connect /
// first-byte / total timeouts and cancellation that closes the socket.
// The header keeps Beast and asio out: callers see plain types.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace sb::net {

class io_threads;

using header_list = std::vector<std::pair<std::string, std::string>>;

struct upstream_timeouts {
  std::chrono::milliseconds connect{3000};
  std::chrono::milliseconds first_byte{30000};  // request written -> response head
  std::chrono::milliseconds total{120000};      // whole call
};

struct upstream_request {
  std::string url;  // absolute: http(s)://host[:port]/path[?query]
  std::string method = "POST";
  header_list headers;
  std::string body;
  upstream_timeouts timeouts;
};

enum class upstream_error {
  resolve_failed,
  connect_failed,
  tls_failed,        // handshake or certificate verification
  timeout_connect,
  timeout_first_byte,
  timeout_total,
  connection_reset,  // closed or reset before the response ended
  protocol_error,    // not parseable as HTTP
  cancelled,         // cancel() was called; no other callback follows
};
const char* to_string(upstream_error e);

struct upstream_head {
  int status = 0;
  header_list headers;  // names lowercased
};

/// Called on the client's I/O threads, in order, for one call:
/// on_head once, then on_data for every body piece as it arrives (chunked
/// encoding already removed), then exactly one of on_end / on_error.
struct upstream_handlers {
  std::function<void(upstream_head)> on_head;
  std::function<void(std::string)> on_data;
  std::function<void()> on_end;
  std::function<void(upstream_error, std::string detail)> on_error;
};

/// A call in flight. cancel() is thread-safe and idempotent: it closes the
/// socket at once (the connection is not returned to the pool) and no handler
/// runs after it except, possibly, one on_error(cancelled).
/// In practice: a call not yet ended gets exactly one on_error(cancelled); a
/// handler already running on an I/O thread when cancel() is called may
/// still finish. Dropping the handle does not cancel the call.
class upstream_call {
 public:
  virtual ~upstream_call() = default;
  virtual void cancel() = 0;
};

struct upstream_client_options {
  std::string ca_file;              // extra CA bundle (tests); empty = system store only
  std::size_t max_idle_per_origin = 32;
  std::chrono::milliseconds idle_expiry{30000};  // pooled connections older than this are closed
  // A whole (non text/event-stream) response body larger than this fails
  // with protocol_error: a runaway upstream must not exhaust memory. Streams
  // have no limit; their pieces are passed on, not kept.
  std::size_t max_response_body = std::size_t{64} << 20;
};

/// Requests: Host (from the URL), Content-Length and "Connection: keep-alive"
/// are set here; the caller's other headers go out as given (its Host,
/// Content-Length and Transfer-Encoding are dropped: they could only
/// disagree). A malformed URL fails the call with resolve_failed.
///
/// Pooling: a connection goes back to the pool only when its response was
/// read to the end and the server did not say close. A pooled connection
/// that proves dead (write fails, or EOF before any response byte) is
/// replaced by a fresh one once, without the caller noticing.
///
/// Lifetime: the io_context must outlive the client and every call. The
/// client may be destroyed at any time, also while calls are in flight and
/// the io_context runs: calls share the pool's state, finish normally, and
/// their connections are then closed instead of pooled. Calls still pending
/// in a stopped io_context are released when it is destroyed. While idle
/// connections exist, an expiry timer is pending on the io_context.
class upstream_client {
 public:
  /// `ioc` must be run by one thread: calls use its executor, not a strand.
  upstream_client(boost::asio::io_context& ioc, upstream_client_options opts = {});
  /// A pool per context: a call started on one of the I/O threads uses that
  /// thread's connections; one from elsewhere, the next pool in turn.
  upstream_client(io_threads& threads, upstream_client_options opts = {});
  ~upstream_client();
  upstream_client(const upstream_client&) = delete;
  upstream_client& operator=(const upstream_client&) = delete;

  /// Starts the call; returns at once. Thread-safe. Called on the pool's
  /// own thread, the request is written before it returns, and a call that
  /// cannot even start (a bad URL) reports its error before it returns.
  std::shared_ptr<upstream_call> start(upstream_request req, upstream_handlers handlers);

  /// Number of idle pooled connections (for tests and metrics).
  [[nodiscard]] std::size_t idle_connections() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sb::net
