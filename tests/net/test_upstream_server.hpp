#pragma once
// A scripted loopback server for the upstream client tests: each accepted
// connection (plain or TLS) runs the test's script on its own thread with
// blocking I/O and deadlines, so a test reads like the conversation it
// checks. Test-only; it shares no code with net/.

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>
#include <boost/asio/write.hpp>

namespace sb::test {

using namespace std::chrono_literals;
using test_clock = std::chrono::steady_clock;

/// One accepted connection, seen from the server side. TLS runs on plain
/// OpenSSL over the blocking socket, so that "poll, then SSL_pending" tells
/// truly whether a read would wait (asio's TLS stream buffers out of sight).
class test_connection {
 public:
  using tcp_socket = boost::asio::ip::tcp::socket;

  /// Takes ownership of `tls` (may be null for plain TCP).
  test_connection(tcp_socket s, SSL* tls) : socket_(std::move(s)), tls_(tls) {}
  ~test_connection() {
    if (tls_ != nullptr) {
      SSL_free(tls_);
    }
  }
  test_connection(const test_connection&) = delete;
  test_connection& operator=(const test_connection&) = delete;

  tcp_socket& socket() { return socket_; }

  /// Reads one request: head, then a Content-Length body. Returns the raw
  /// request, or nothing when the peer closed or `timeout` passed first.
  std::optional<std::string> read_request(std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = test_clock::now() + timeout;
    while (true) {
      auto head_end = pending_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        auto want = head_end + 4 + content_length(std::string_view(pending_).substr(0, head_end));
        if (pending_.size() >= want) {
          std::string request = pending_.substr(0, want);
          pending_.erase(0, want);
          return request;
        }
      }
      if (!read_more(deadline)) {
        return std::nullopt;
      }
    }
  }

  /// Writes all of `bytes`; false when the peer is gone.
  bool write(std::string_view bytes) {
    if (tls_ != nullptr) {
      return bytes.empty() || SSL_write(tls_, bytes.data(), static_cast<int>(bytes.size())) > 0;
    }
    boost::system::error_code ec;
    boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }

  /// Waits until the peer closes (EOF or reset). Returns when that was seen,
  /// or nothing if `timeout` passed with the connection still open.
  std::optional<test_clock::time_point> wait_for_close(std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = test_clock::now() + timeout;
    while (read_more(deadline)) {
    }
    if (closed_) {
      return closed_at_;
    }
    return std::nullopt;
  }

  /// Closes with an RST instead of a FIN: SO_LINGER with a zero timeout.
  void reset() {
    ::linger lin{1, 0};
    ::setsockopt(socket().native_handle(), SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
    boost::system::error_code ignored;
    socket().close(ignored);
  }

  void close() {
    boost::system::error_code ignored;
    socket().shutdown(tcp_socket::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  static std::size_t content_length(std::string_view head) {
    // Case-insensitive search for the header name at a line start.
    std::string lower(head);
    for (auto& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    auto at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos) {
      return 0;
    }
    return std::strtoul(lower.c_str() + at + 17, nullptr, 10);
  }

  // One read into pending_, waiting at most until `deadline`. False when the
  // peer closed (closed_ is then set) or the deadline passed.
  bool read_more(test_clock::time_point deadline) {
    if (closed_) {
      return false;
    }
    bool tls_has_bytes = tls_ != nullptr && SSL_pending(tls_) > 0;
    if (!tls_has_bytes) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - test_clock::now());
      if (left.count() <= 0) {
        return false;
      }
      ::pollfd p{socket().native_handle(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return false;
      }
    }
    char buf[16 * 1024];
    boost::system::error_code ec;
    std::size_t n = 0;
    if (tls_ != nullptr) {
      int got = SSL_read(tls_, buf, sizeof buf);
      if (got <= 0) {
        ec = boost::asio::error::eof;
      } else {
        n = static_cast<std::size_t>(got);
      }
    } else {
      n = socket_.read_some(boost::asio::buffer(buf), ec);
    }
    if (ec) {
      closed_ = true;
      closed_at_ = test_clock::now();
      return false;
    }
    pending_.append(buf, n);
    return true;
  }

  tcp_socket socket_;
  SSL* tls_ = nullptr;
  std::string pending_;
  bool closed_ = false;
  test_clock::time_point closed_at_;
};

/// Listens on 127.0.0.1 (an ephemeral port) and runs `script` for every
/// accepted connection, each on its own thread. With TLS, the handshake
/// runs first and a connection that fails it never reaches the script.
class test_upstream_server {
 public:
  using script = std::function<void(test_connection&)>;

  struct tls_files {
    std::string cert_pem;
    std::string key_pem;
  };

  explicit test_upstream_server(script s, std::optional<tls_files> tls = std::nullopt)
      : script_(std::move(s)), acceptor_(ioc_) {
    using tcp = boost::asio::ip::tcp;
    if (tls) {
      tls_ctx_.emplace(boost::asio::ssl::context::tls_server);
      tls_ctx_->use_certificate_chain_file(tls->cert_pem);
      tls_ctx_->use_private_key_file(tls->key_pem, boost::asio::ssl::context::pem);
    }
    tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~test_upstream_server() {
    stopping_ = true;
    accept_thread_.join();
    std::lock_guard lock(mutex_);
    for (auto& t : connection_threads_) {
      t.join();
    }
  }

  test_upstream_server(const test_upstream_server&) = delete;
  test_upstream_server& operator=(const test_upstream_server&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string url(std::string_view path = "/") const {
    return std::string(tls_ctx_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
           std::string(path);
  }
  /// TCP connections accepted so far.
  [[nodiscard]] int accepted() const { return accepted_; }
  /// TLS handshakes that failed (the client refused us, or vice versa).
  [[nodiscard]] int failed_handshakes() const { return failed_handshakes_; }

 private:
  void accept_loop() {
    while (!stopping_) {
      ::pollfd p{acceptor_.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec) {
        continue;
      }
      ++accepted_;
      std::lock_guard lock(mutex_);
      connection_threads_.emplace_back(
          [this, s = std::make_shared<boost::asio::ip::tcp::socket>(std::move(socket))]() mutable {
            serve(std::move(*s));
          });
    }
  }

  void serve(boost::asio::ip::tcp::socket socket) {
    if (!tls_ctx_) {
      test_connection conn(std::move(socket), nullptr);
      script_(conn);
      return;
    }
    // The handshake blocks without a deadline: every client in these tests
    // either completes it or closes, which ends it.
    SSL* tls = SSL_new(tls_ctx_->native_handle());
    SSL_set_fd(tls, socket.native_handle());
    test_connection conn(std::move(socket), tls);
    if (SSL_accept(tls) != 1) {
      ++failed_handshakes_;
      return;
    }
    script_(conn);
  }

  script script_;
  boost::asio::io_context ioc_;
  std::optional<boost::asio::ssl::context> tls_ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> failed_handshakes_{0};
  std::mutex mutex_;
  std::vector<std::thread> connection_threads_;
  std::thread accept_thread_;
};

/// A self-signed certificate, by default for 127.0.0.1 and localhost, made
/// with the openssl CLI in a fresh temporary directory, removed at destruction.
class test_certificate {
 public:
  explicit test_certificate(const std::string& subject_alt_names = "IP:127.0.0.1,DNS:localhost") {
    char dir_template[] = "/tmp/sb-upstream-tls-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) {
      return;
    }
    dir_ = dir_template;
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key_pem() + " -out " + cert_pem() +
                      " -days 2 -subj /CN=localhost"
                      " -addext subjectAltName=" + subject_alt_names + " >/dev/null 2>&1";
    ok_ = std::system(cmd.c_str()) == 0;
  }
  ~test_certificate() {
    if (!dir_.empty()) {
      std::remove(cert_pem().c_str());
      std::remove(key_pem().c_str());
      std::remove(dir_.c_str());
    }
  }
  test_certificate(const test_certificate&) = delete;
  test_certificate& operator=(const test_certificate&) = delete;

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] std::string cert_pem() const { return dir_ + "/cert.pem"; }
  [[nodiscard]] std::string key_pem() const { return dir_ + "/key.pem"; }
  [[nodiscard]] test_upstream_server::tls_files files() const { return {cert_pem(), key_pem()}; }

 private:
  std::string dir_;
  bool ok_ = false;
};

}  // namespace sb::test
