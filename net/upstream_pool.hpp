#pragma once
// Idle keep-alive connections, per origin, shared by every call of one
// upstream_client. Thread-safe. A connection is in here only while no
// operation is pending on it; it leaves through acquire() to one call.

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/upstream_client.hpp"
#include "net/upstream_connection.hpp"

namespace sb::net {

class upstream_pool : public std::enable_shared_from_this<upstream_pool> {
 public:
  upstream_pool(boost::asio::io_context& ioc, upstream_client_options opts);

  [[nodiscard]] boost::asio::io_context& io_context() { return ioc_; }
  [[nodiscard]] const upstream_client_options& options() const { return opts_; }

  /// The TLS client context, or null when it could not be set up (then
  /// `tls_setup_error()` says why and every https call fails with it).
  [[nodiscard]] boost::asio::ssl::context* tls_context() { return tls_ok_ ? &tls_ : nullptr; }
  [[nodiscard]] const std::string& tls_setup_error() const { return tls_error_; }

  /// The most recently used idle connection to `origin` that still looks
  /// alive (one idle for more than a second is peeked at), or null. Expired
  /// and dead ones met on the way are closed.
  std::unique_ptr<upstream_connection> acquire(const std::string& origin);

  /// Takes back a connection whose last response was read to its end and
  /// whose server keeps it open. After close(), it is closed instead.
  void release(const std::string& origin, std::unique_ptr<upstream_connection> conn);

  [[nodiscard]] std::size_t idle_count() const;

  /// Closes every idle connection and pools none from now on.
  void close();

 private:
  using clock = std::chrono::steady_clock;
  struct idle_connection {
    std::unique_ptr<upstream_connection> conn;
    clock::time_point idle_since;
  };

  // Both need mutex_ held.
  void arm_sweep_locked();
  void sweep_expired_locked(std::vector<std::unique_ptr<upstream_connection>>& closing);
  void on_sweep();

  boost::asio::io_context& ioc_;
  upstream_client_options opts_;
  boost::asio::ssl::context tls_;
  bool tls_ok_ = true;
  std::string tls_error_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<idle_connection>> idle_;  // oldest first
  std::size_t idle_total_ = 0;
  boost::asio::steady_timer sweep_timer_;
  bool sweep_armed_ = false;
  bool closed_ = false;
};

}  // namespace sb::net
