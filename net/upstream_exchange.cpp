#include "net/upstream_exchange.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <optional>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include "net/message_parser.hpp"
#include "net/request_head.hpp"
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
constexpr std::size_t max_read_size = 64 * 1024;

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

std::string ms_text(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

class upstream_exchange final : public upstream_call,
                                public std::enable_shared_from_this<upstream_exchange> {
 public:
  upstream_exchange(std::shared_ptr<upstream_pool> pool, upstream_request req, upstream_handlers handlers)
      : pool_(std::move(pool)),
        executor_(pool_->io_context().get_executor()),
        timer_(executor_),
        handlers_(std::move(handlers)),
        timeouts_(req.timeouts) {
    if ((known_ = known_upstream_url(req.url, setup_error_))) {
      build_request(std::move(req));
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
  [[nodiscard]] const upstream_url& url() const { return known_->url; }

  void build_request(upstream_request req) {
    head_only_ = req.method == "HEAD";
    if (auto error = write_request_head(head_, req.method, req.headers, req.body.size(), url())) {
      setup_error_ = std::move(*error);
      setup_error_kind_ = upstream_error::protocol_error;
      return;
    }
    body_ = std::move(req.body);
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
    if (auto pooled = pool_->acquire(known_->origin)) {
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
    if (url().tls) {
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
    auto address = asio::ip::make_address(url().host, ec);
    if (!ec) {
      conn_->socket().async_connect(tcp::endpoint(address, url().port), bound(&upstream_exchange::on_connect));
      return;
    }
    resolver_.emplace(executor_);  // only for a host name: most calls go to a pooled connection
    resolver_->async_resolve(url().host, std::to_string(url().port), bound(&upstream_exchange::on_resolve));
  }

  void on_resolve(error_code ec, tcp::resolver::results_type results) {
    if (done_) {
      return;
    }
    if (ec) {
      return fail(upstream_error::resolve_failed, "resolve " + url().host + ": " + ec.message());
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
                  "connect to " + url().host + ":" + std::to_string(url().port) + ": " + ec.message());
    }
    // Requests and SSE pieces are small writes; Nagle would hold them back.
    conn_->socket().set_option(tcp::no_delay(true), ec);
    if (!url().tls) {
      arm_timer_total();
      return do_write();
    }
    auto& tls = conn_->tls();
    if (!url().host_is_ip && SSL_set_tlsext_host_name(tls.native_handle(), url().host.c_str()) != 1) {
      return fail(upstream_error::tls_failed, "cannot set SNI for " + url().host);
    }
    tls.set_verify_mode(asio::ssl::verify_peer);
    tls.set_verify_callback(asio::ssl::host_name_verification(url().host));
    tls.async_handshake(asio::ssl::stream_base::client, bound(&upstream_exchange::on_handshake));
  }

  void on_handshake(error_code ec) {
    if (done_) {
      return;
    }
    if (ec) {
      std::string detail = "tls handshake with " + url().host + ": " + ec.message();
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
  //
  // Plain TCP runs reactor-style, as nginx does: the request is written at
  // once (it fits the socket buffer), and the answer is read when epoll says
  // it is there. An async_write or a speculative async_read_some would each
  // post a completion, a trip through the queue and an empty epoll_wait per
  // call. TLS keeps asio's async reads and writes (SSL records need them).

  void reset_parser() {
    parser_.emplace();
    parser_->eager(true);
    parser_->body_limit(boost::none);  // our own cap, by content type, in pass_on_body_piece
    parser_->header_limit(max_response_head);
    parser_->skip(head_only_);
  }

  void do_write() {
    reset_parser();
    head_delivered_ = false;
    buffer_.clear();
    // Room for a whole typical answer: one read instead of 512-byte pieces.
    buffer_.reserve(initial_read_room);
    written_ = 0;
    if (!conn_->is_tls()) {
      auto& socket = conn_->socket();
      error_code ec;
      if (!socket.non_blocking()) socket.non_blocking(true, ec);  // an ioctl: once per connection
      if (!ec) written_ = socket.write_some(unsent(), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
      if (ec || written_ == head_.size() + body_.size()) return on_write(ec, written_);
    }
    asio::async_write(*conn_, unsent(), bound(&upstream_exchange::on_write));
  }

  /// What of the head and body the socket has not taken yet.
  std::array<asio::const_buffer, 2> unsent() const {
    auto from_head = std::min(written_, head_.size());
    return {asio::buffer(head_) + from_head, asio::buffer(body_) + (written_ - from_head)};
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
    await_response();
  }

  void await_response() {
    if (conn_->is_tls()) {
      conn_->async_read_some(buffer_.prepare(read_room()), bound(&upstream_exchange::on_tls_read));
      return;
    }
    conn_->socket().async_wait(tcp::socket::wait_read, bound(&upstream_exchange::on_readable));
  }

  [[nodiscard]] std::size_t read_room() const {
    return std::min(beast::read_size(buffer_, max_read_size), max_read_size);
  }

  void on_readable(error_code ec) {
    if (done_) {
      return;
    }
    if (ec) {
      return on_read_error(ec);
    }
    auto n = conn_->socket().read_some(buffer_.prepare(read_room()), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      return await_response();
    }
    on_bytes(ec, n);
  }

  void on_tls_read(error_code ec, std::size_t n) {
    if (done_) {
      return;
    }
    on_bytes(ec, n);
  }

  void on_bytes(error_code ec, std::size_t n) {
    buffer_.commit(n);
    if (ec == asio::error::eof) {
      return on_eof();
    }
    if (ec) {
      return on_read_error(ec);
    }
    parse_buffered();
  }

  void parse_buffered() {
    while (buffer_.size() > 0 && !parser_->is_done()) {
      error_code ec;
      auto used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec && ec != http::error::need_more) {
        return on_read_error(ec);
      }
      // need_more may come with the head done (a body still on its way).
      if (!head_delivered_ && parser_->is_header_done()) {
        int status = parser_->status();
        if (status >= 100 && status < 200 && status != 101) {
          // An interim response (100 Continue, 103 Early Hints): the real one follows.
          reset_parser();
          continue;
        }
        if (!deliver_head()) {
          return;
        }
      }
      if (ec == http::error::need_more || used == 0) {
        break;
      }
    }
    on_body_progress();
  }

  /// The head to the caller. false: a cancel is on its way, read no more.
  bool deliver_head() {
    head_delivered_ = true;
    arm_timer_total();
    auto content_type = parser_->field("content-type").value_or(std::string_view());
    body_is_stream_ = content_type.size() >= 17 && beast::iequals(content_type.substr(0, 17), "text/event-stream");
    upstream_head head;
    head.status = parser_->status();
    head.headers = std::move(parser_->headers());
    if (cancel_requested_) {
      return false;  // the posted cancel ends the call
    }
    if (handlers_.on_head) {
      handlers_.on_head(std::move(head));
    }
    return !done_;
  }

  void on_body_progress() {
    if (head_delivered_) {
      pass_on_body_piece();
      if (done_) {
        return;
      }
    }
    if (parser_->is_done()) {
      return complete();
    }
    await_response();
  }

  /// The server closed: the end of a body that runs until close, else an
  /// answer cut short (or none at all, on a pooled connection it had closed).
  void on_eof() {
    if (!parser_->got_some()) {
      return on_read_error(http::error::end_of_stream);
    }
    error_code ec;
    parser_->put_eof(ec);
    if (ec) {
      return on_read_error(ec);
    }
    on_body_progress();
  }

  void on_read_error(error_code ec) {
    if (done_) {
      return;
    }
    if (!head_delivered_) {
      if (reused_ && !retried_ && nothing_came_back(ec, *parser_, buffer_.size())) {
        return retry_on_fresh_connection();
      }
      return fail(classify_read_error(ec), "reading the response head: " + ec.message());
    }
    pass_on_body_piece();  // what arrived before the error is still the caller's
    if (done_) {
      return;
    }
    fail(classify_read_error(ec), "reading the response body: " + ec.message());
  }

  // Hands the caller what the parser has decoded since the last piece; the
  // body string is moved out, so nothing accumulates here.
  void pass_on_body_piece() {
    auto& body = parser_->body();
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
      pool_->release(known_->origin, std::move(conn_));
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
    if (resolver_) resolver_->cancel();
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
  std::optional<tcp::resolver> resolver_;
  asio::steady_timer timer_;
  upstream_handlers handlers_;
  upstream_timeouts timeouts_;

  std::shared_ptr<const parsed_upstream_url> known_;  // null: setup_error_ says why
  std::string setup_error_;  // a bad URL fails the call as resolve_failed: it names no address
  upstream_error setup_error_kind_ = upstream_error::resolve_failed;
  std::string head_;  // the request's, written by write_request_head
  std::string body_;
  std::size_t written_ = 0;  // of head_ then body_, taken by the socket
  bool head_only_ = false;
  bool head_delivered_ = false;  // the response head went to on_head

  std::unique_ptr<upstream_connection> conn_;
  bool reused_ = false;   // conn_ came from the pool
  bool retried_ = false;  // the one transparent retry is spent
  beast::flat_buffer buffer_;
  std::optional<response_parser> parser_;
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
