#pragma once
// One connection to an upstream origin, plain TCP or TLS behind one stream
// type, so that the HTTP exchange is written (and compiled) once for both.
// Whoever holds it runs its operations on the pool's context (one thread),
// and hands it over only when idle.

#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace sb::net {

class upstream_connection {
 public:
  using executor_type = boost::asio::any_io_executor;
  using tcp_socket = boost::asio::ip::tcp::socket;
  using tls_stream = boost::beast::ssl_stream<tcp_socket>;

  /// A plain TCP connection, not yet connected.
  explicit upstream_connection(executor_type ex) : plain_(std::in_place, std::move(ex)) {}
  /// A TLS connection, not yet connected; `ctx` must outlive it.
  upstream_connection(executor_type ex, boost::asio::ssl::context& ctx)
      : tls_(std::make_unique<tls_stream>(std::move(ex), ctx)) {}

  [[nodiscard]] bool is_tls() const { return tls_ != nullptr; }
  [[nodiscard]] tls_stream& tls() { return *tls_; }
  [[nodiscard]] tcp_socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }
  executor_type get_executor() { return socket().get_executor(); }

  /// Closes the socket now: pending operations end with operation_aborted
  /// and the peer sees the close at once (no TLS close_notify, no linger).
  void close() {
    boost::system::error_code ignored;
    socket().close(ignored);
  }

  /// True when an idle connection still looks usable: the peer has neither
  /// closed it nor sent anything unasked. One non-blocking peek, no I/O wait.
  [[nodiscard]] bool looks_alive() {
    if (!socket().is_open()) {
      return false;
    }
    char byte;
    auto n = ::recv(socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  // AsyncReadStream / AsyncWriteStream, so Beast's HTTP algorithms run on it.
  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_read_some(buffers, std::forward<Handler>(handler));
    }
  }
  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

 private:
  std::optional<tcp_socket> plain_;
  std::unique_ptr<tls_stream> tls_;
};

}  // namespace sb::net
