#include "net/upstream_exchange.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <cctype>
#include <exception>
#include <optional>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "net/upstream_connection.hpp"
#include "net/upstream_pool.hpp"
#include "net/upstream_url.hpp"

namespace sb::net {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using clock = std::chrono::steady_clock;

// Providers send a dozen rate-limit and tracing headers; Beast's default
// 8 KiB would turn a healthy response into a protocol error.
constexpr std::uint32_t max_response_head = 64 * 1024;
constexpr std::size_t initial_read_room = 8 * 1024;  // a typical whole answer

bool is_http_parse_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_version).category();
}

// Closed or reset by the peer, in any of the ways a socket, TLS or the HTTP
// parser say so; anything else from the parser means the bytes were not HTTP.
upstream_error classify_read_error(const error_code& ec) {
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
    return upstream_error::connection_reset;
  }
  return is_http_parse_error(ec) ? upstream_error::protocol_error : upstream_error::connection_reset;
}

// No response byte came back: the usual fate of a pooled connection that the
// server closed while it sat idle, and the only case safe to send again.
bool nothing_came_back(const error_code& ec, const http::basic_parser<false>& parser,
                       std::size_t buffered) {
  if (ec == http::error::end_of_stream) {
    return true;
  }
  bool closed = ec == asio::error::eof || ec == asio::error::connection_reset ||
                ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
  return closed && !parser.got_some() && buffered == 0;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string ms_text(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

class upstream_exchange final : public upstream_call,
                                public std::enable_shared_from_this<upstream_exchange> {
 public:
  upstream_exchange(std::shared_ptr<upstream_pool> pool, upstream_request req, upstream_handlers handlers)
      : pool_(std::move(pool)),
        executor_(pool_->io_context().get_executor()),
        resolver_(executor_),
        timer_(executor_),
        handlers_(std::move(handlers)),
        timeouts_(req.timeouts) {
    if (auto url = parse_upstream_url(req.url, setup_error_)) {
      url_ = std::move(*url);
      origin_ = url_.origin();
      try {
        build_request(std::move(req));
      } catch (const std::exception& e) {  // Beast refuses an empty method or a giant field
        setup_error_ = std::string("invalid request: ") + e.what();
        setup_error_kind_ = upstream_error::protocol_error;
      }
    }
  }

  /// On the pool's thread (a session on its I/O thread) the call begins at
  /// once: its request is on the wire before start() returns.
  void start() {
    asio::dispatch(executor_, [self = shared_from_this()] { self->begin(); });
  }

  // upstream_call
  void cancel() override {
    if (cancel_requested_.exchange(true)) {
      return;
    }
    // Posted, not run here: the caller may be inside one of our own
    // callbacks, or on another thread while the socket is in use. The
    // context is idle between reads, so the close lands within microseconds.
    asio::post(executor_, [self = shared_from_this()] {
      self->fail(upstream_error::cancelled, "cancelled by the caller");
    });
  }

 private:
  void build_request(upstream_request req) {
    auto verb = http::string_to_verb(req.method);
    if (verb == http::verb::unknown) {
      request_.method_string(req.method);
    } else {
      request_.method(verb);
    }
    head_only_ = verb == http::verb::head;
    request_.target(url_.target);
    request_.version(11);
    bool caller_set_connection = false;
    for (auto& [name, value] : req.headers) {
      // Host and the body's framing follow from the URL and the body; a
      // caller's own copy could only disagree with them.
      if (iequals(name, "host") || iequals(name, "content-length") || iequals(name, "transfer-encoding")) {
        continue;
      }
      caller_set_connection = caller_set_connection || iequals(name, "connection");
      request_.insert(name, value);
    }
    request_.set(http::field::host, url_.host_header);
    if (!caller_set_connection) {
      request_.set(http::field::connection, "keep-alive");
    }
    request_.body() = std::move(req.body);
    request_.prepare_payload();
  }

  template <class Member>
  auto bound(Member member) {
    return beast::bind_front_handler(member, shared_from_this());
  }

  void begin() {
    if (done_) {
      return;
    }
    if (!setup_error_.empty()) {
      return fail(setup_error_kind_, setup_error_);
    }
    deadline_ = clock::now() + timeouts_.total;
    if (auto pooled = pool_->acquire(origin_)) {
      conn_ = std::move(pooled);
      reused_ = true;
      arm_timer_total();
      return do_write();
    }
    connect_fresh();
  }

  // ---- connect: resolve, TCP, TLS handshake, all within timeouts_.connect

  void connect_fresh() {
    reused_ = false;
    arm_timer(timeouts_.connect, upstream_error::timeout_connect);
    if (url_.tls) {
      auto* ctx = pool_->tls_context();
      if (ctx == nullptr) {
        return fail(upstream_error::tls_failed, pool_->tls_setup_error());
      }
      conn_ = std::make_unique<upstream_connection>(pool_->io_context().get_executor(), *ctx);
    } else {
      conn_ = std::make_unique<upstream_connection>(pool_->io_context().get_executor());
    }
    // An IP literal skips the resolver and its round trip through a helper thread.
    error_code ec;
    auto address = asio::ip::make_address(url_.host, ec);
    if (!ec) {
      conn_->socket().async_connect(tcp::endpoint(address, url_.port), bound(&upstream_exchange::on_connect));
      return;
    }
    resolver_.async_resolve(url_.host, std::to_string(url_.port), bound(&upstream_exchange::on_resolve));
  }

  void on_resolve(error_code ec, tcp::resolver::results_type results) {
    if (done_) {
      return;
    }
    if (ec) {
      return fail(upstream_error::resolve_failed, "resolve " + url_.host + ": " + ec.message());
    }
    asio::async_connect(conn_->socket(), results,
                        bound(&upstream_exchange::on_connect_to_any));
  }

  void on_connect_to_any(error_code ec, const tcp::endpoint&) { on_connect(ec); }

  void on_connect(error_code ec) {
    if (done_) {
      return;
    }
    if (ec) {
      return fail(upstream_error::connect_failed,
                  "connect to " + url_.host + ":" + std::to_string(url_.port) + ": " + ec.message());
    }
    // Requests and SSE pieces are small writes; Nagle would hold them back.
    conn_->socket().set_option(tcp::no_delay(true), ec);
    if (!url_.tls) {
      arm_timer_total();
      return do_write();
    }
    auto& tls = conn_->tls();
    if (!url_.host_is_ip && SSL_set_tlsext_host_name(tls.native_handle(), url_.host.c_str()) != 1) {
      return fail(upstream_error::tls_failed, "cannot set SNI for " + url_.host);
    }
    tls.set_verify_mode(asio::ssl::verify_peer);
    tls.set_verify_callback(asio::ssl::host_name_verification(url_.host));
    tls.async_handshake(asio::ssl::stream_base::client, bound(&upstream_exchange::on_handshake));
  }

  void on_handshake(error_code ec) {
    if (done_) {
      return;
    }
    if (ec) {
      std::string detail = "tls handshake with " + url_.host + ": " + ec.message();
      auto verify = SSL_get_verify_result(conn_->tls().native_handle());
      if (verify != X509_V_OK) {
        detail += " (";
        detail += X509_verify_cert_error_string(verify);
        detail += ")";
      }
      return fail(upstream_error::tls_failed, detail);
    }
    arm_timer_total();
    do_write();
  }

  // ---- request and response

  void reset_parser() {
    parser_.emplace();
    parser_->body_limit(boost::none);  // our own cap, by content type, in pass_on_body_piece
    parser_->header_limit(max_response_head);
    parser_->skip(head_only_);
  }

  void do_write() {
    reset_parser();
    buffer_.clear();
    // Room for a whole typical answer: one read instead of 512-byte pieces.
    buffer_.reserve(initial_read_room);
    http::async_write(*conn_, request_, bound(&upstream_exchange::on_write));
  }

  void on_write(error_code ec, std::size_t) {
    if (done_) {
      return;
    }
    if (ec) {
      if (reused_ && !retried_) {
        return retry_on_fresh_connection();
      }
      return fail(upstream_error::connection_reset, "sending the request: " + ec.message());
    }
    arm_timer(timeouts_.first_byte, upstream_error::timeout_first_byte);
    do_read_head();
  }

  void do_read_head() {
    http::async_read_header(*conn_, buffer_, *parser_, bound(&upstream_exchange::on_read_head));
  }

  void on_read_head(error_code ec, std::size_t) {
    if (done_) {
      return;
    }
    if (ec) {
      if (reused_ && !retried_ && nothing_came_back(ec, *parser_, buffer_.size())) {
        return retry_on_fresh_connection();
      }
      return fail(classify_read_error(ec), "reading the response head: " + ec.message());
    }
    auto& response = parser_->get();
    int status = response.result_int();
    if (status >= 100 && status < 200 && status != 101) {
      // An interim response (100 Continue, 103 Early Hints): the real one follows.
      reset_parser();
      return do_read_head();
    }
    arm_timer_total();
    upstream_head head;
    head.status = status;
    for (const auto& field : response) {
      head.headers.emplace_back(lowercase(field.name_string()), std::string(field.value()));
    }
    auto content_type = lowercase(response[http::field::content_type]);
    body_is_stream_ = content_type.rfind("text/event-stream", 0) == 0;
    if (cancel_requested_) {
      return;  // the posted cancel ends the call
    }
    if (handlers_.on_head) {
      handlers_.on_head(std::move(head));
    }
    on_body_progress();
  }

  void do_read_body() {
    http::async_read_some(*conn_, buffer_, *parser_, bound(&upstream_exchange::on_read_body));
  }

  void on_read_body(error_code ec, std::size_t) {
    if (done_) {
      return;
    }
    if (ec) {
      pass_on_body_piece();  // what arrived before the error is still the caller's
      if (done_) {
        return;
      }
      return fail(classify_read_error(ec), "reading the response body: " + ec.message());
    }
    on_body_progress();
  }

  void on_body_progress() {
    pass_on_body_piece();
    if (done_) {
      return;
    }
    if (parser_->is_done()) {
      return complete();
    }
    do_read_body();
  }

  // Hands the caller what the parser has decoded since the last piece; the
  // body string is moved out, so nothing accumulates here.
  void pass_on_body_piece() {
    auto& body = parser_->get().body();
    if (body.empty()) {
      return;
    }
    body_bytes_ += body.size();
    if (!body_is_stream_ && body_bytes_ > pool_->options().max_response_body) {
      return fail(upstream_error::protocol_error,
                  "response body larger than " + std::to_string(pool_->options().max_response_body) + " bytes");
    }
    std::string piece = std::move(body);
    body.clear();
    if (cancel_requested_) {
      return;
    }
    if (handlers_.on_data) {
      handlers_.on_data(std::move(piece));
    }
  }

  void complete() {
    done_ = true;
    timer_.cancel();
    // Reusable only when the server keeps it open and sent nothing past this
    // response; then it goes back before on_end, ready for the next call.
    if (parser_->keep_alive() && buffer_.size() == 0 && !cancel_requested_) {
      pool_->release(origin_, std::move(conn_));
    } else {
      conn_->close();
    }
    auto handlers = std::move(handlers_);
    handlers_ = {};
    if (cancel_requested_) {
      if (handlers.on_error) {
        handlers.on_error(upstream_error::cancelled, "cancelled by the caller");
      }
    } else if (handlers.on_end) {
      handlers.on_end();
    }
  }

  void retry_on_fresh_connection() {
    retried_ = true;
    conn_.reset();  // nothing is pending on it: we are in its last completion
    connect_fresh();
  }

  // ---- endings and timers

  /// The one way a call fails: closes what it holds, then tells the caller,
  /// once. Handlers still pending on the closed socket find done_ and return.
  void fail(upstream_error error, std::string detail) {
    if (done_) {
      return;
    }
    done_ = true;
    timer_.cancel();
    resolver_.cancel();
    if (conn_) {
      conn_->close();
    }
    if (cancel_requested_) {
      error = upstream_error::cancelled;
      detail = "cancelled by the caller";
    }
    // Dropping the handlers breaks any cycle through a handler that holds the call.
    auto handlers = std::move(handlers_);
    handlers_ = {};
    if (handlers.on_error) {
      handlers.on_error(error, std::move(detail));
    }
  }

  /// Arms the one timer for the current phase, never past the total deadline.
  void arm_timer(std::chrono::milliseconds budget, upstream_error reason) {
    auto at = clock::now() + budget;
    if (at >= deadline_) {
      at = deadline_;
      reason = upstream_error::timeout_total;
      budget = timeouts_.total;
    }
    timer_reason_ = reason;
    timer_budget_ = budget;
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this(), generation = ++timer_generation_](error_code ec) {
      self->on_timer(ec, generation);
    });
  }

  void arm_timer_total() { arm_timer(timeouts_.total, upstream_error::timeout_total); }

  void on_timer(error_code ec, std::uint64_t generation) {
    // A wait that completed just before being re-armed is stale, not an expiry.
    if (ec || generation != timer_generation_ || done_) {
      return;
    }
    fail(timer_reason_, std::string(to_string(timer_reason_)) + " after " + ms_text(timer_budget_));
  }

  std::shared_ptr<upstream_pool> pool_;
  // The pool's context, run by one thread: the exchange's handlers never
  // overlap, without a strand.
  asio::io_context::executor_type executor_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  upstream_handlers handlers_;
  upstream_timeouts timeouts_;

  upstream_url url_;
  std::string origin_;
  std::string setup_error_;  // a bad URL fails the call as resolve_failed: it names no address
  upstream_error setup_error_kind_ = upstream_error::resolve_failed;
  http::request<http::string_body> request_;
  bool head_only_ = false;

  std::unique_ptr<upstream_connection> conn_;
  bool reused_ = false;   // conn_ came from the pool
  bool retried_ = false;  // the one transparent retry is spent
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool body_is_stream_ = false;
  std::size_t body_bytes_ = 0;

  clock::time_point deadline_;
  upstream_error timer_reason_ = upstream_error::timeout_total;
  std::chrono::milliseconds timer_budget_{0};
  std::uint64_t timer_generation_ = 0;

  bool done_ = false;  // on_end or on_error has been called, or is being called
  std::atomic<bool> cancel_requested_{false};
};

}  // namespace

std::shared_ptr<upstream_call> start_upstream_exchange(std::shared_ptr<upstream_pool> pool,
                                                       upstream_request request,
                                                       upstream_handlers handlers) {
  auto call = std::make_shared<upstream_exchange>(std::move(pool), std::move(request), std::move(handlers));
  call->start();
  return call;
}

}  // namespace sb::net
