#include "net/http_connection.hpp"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <limits>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include "core/api_error.hpp"
#include "net/response_head.hpp"

namespace sb::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using error_code = beast::error_code;

namespace {

// While the handler works, the read that watches for the client leaving also
// collects pipelined bytes; past this much it stops rather than buffer more.
constexpr std::size_t watch_buffer_cap = 64 * 1024;
constexpr std::size_t max_read_size = 64 * 1024;
// After a response that ends the connection, how long the client's unread
// bytes are drained: closing with data unread would send RST and could
// destroy the response (an error page) before the client reads it.
constexpr std::chrono::milliseconds max_linger{1000};

void run_guarded(const std::function<void()>& fn) {
  try {
    fn();
  } catch (...) {
    // a client-gone callback that throws must not take the I/O thread down
  }
}

api_error header_too_large(std::size_t limit) {
  return {431, "invalid_request_error", "request_header_fields_too_large",
          "The request header section exceeds the limit of " + std::to_string(limit) + " bytes.",
          std::nullopt};
}

api_error malformed_request(const error_code& ec) {
  return {400, "invalid_request_error", "malformed_request", "Malformed HTTP request: " + ec.message() + ".",
          std::nullopt};
}

void split_target(http_request& req) {
  const auto q = req.target.find('?');
  if (q == std::string::npos) {
    req.path = req.target;
    return;
  }
  req.path.assign(req.target, 0, q);
  req.query.assign(req.target, q + 1, std::string::npos);
}

}  // namespace

/// The handle the handler gets: a connection plus the request it answers.
class connection_responder final : public responder {
 public:
  connection_responder(const std::shared_ptr<http_connection>& c, std::uint64_t seq) : conn_(c), seq_(seq) {}
  ~connection_responder() override {
    // A responder that answered has nothing to abandon; checking here, not on
    // the connection's thread, keeps a late abandon from overtaking the answer.
    if (answered_.load(std::memory_order_acquire)) return;
    if (auto c = conn_.lock()) c->abandon(seq_);
  }
  connection_responder(const connection_responder&) = delete;
  connection_responder& operator=(const connection_responder&) = delete;

  void respond(int status, header_list headers, std::string body) override {
    answered_.store(true, std::memory_order_release);
    if (auto c = conn_.lock()) c->respond(seq_, status, std::move(headers), std::move(body));
  }
  void start_stream(int status, header_list headers) override {
    if (auto c = conn_.lock()) c->start_stream(seq_, status, std::move(headers));
  }
  void write(std::string data) override {
    if (auto c = conn_.lock()) c->write(seq_, std::move(data));
  }
  void finish() override {
    answered_.store(true, std::memory_order_release);
    if (auto c = conn_.lock()) c->finish(seq_);
  }
  void on_client_gone(std::function<void()> fn) override {
    if (auto c = conn_.lock())
      c->on_client_gone(seq_, std::move(fn));
    else if (gone_.load(std::memory_order_acquire) && fn)
      run_guarded(fn);  // the connection closed on the client and is gone since
  }
  [[nodiscard]] std::size_t pending_bytes() const override {
    auto c = conn_.lock();
    return c ? c->pending_bytes() : 0;
  }

  /// Called on the connection's thread when it closes before the response was done.
  void mark_gone() { gone_.store(true, std::memory_order_release); }

 private:
  std::weak_ptr<http_connection> conn_;
  std::uint64_t seq_;
  std::atomic<bool> gone_{false};
  std::atomic<bool> answered_{false};  // respond() or finish() was called
};

// ---- server_state ----------------------------------------------------------

std::uint64_t server_state::add(const std::shared_ptr<http_connection>& c) {
  std::lock_guard lock(mu_);
  const auto id = next_id_++;
  connections_.emplace(id, c);
  return id;
}

void server_state::remove(std::uint64_t id) {
  std::lock_guard lock(mu_);
  connections_.erase(id);
}

std::vector<std::shared_ptr<http_connection>> server_state::connections() {
  std::vector<std::shared_ptr<http_connection>> out;
  std::lock_guard lock(mu_);
  out.reserve(connections_.size());
  for (auto& [id, weak] : connections_)
    if (auto c = weak.lock()) out.push_back(std::move(c));
  return out;
}

// ---- lifetime ----------------------------------------------------------------

http_connection::http_connection(std::shared_ptr<server_state> state, socket_type socket)
    : state_(std::move(state)), socket_(std::move(socket)), timer_(socket_.get_executor()) {
  error_code ec;
  // Reads and writes are tried at once (read_more, flush); asio's own
  // async operations work the same on a non-blocking socket.
  socket_.non_blocking(true, ec);
  const auto ep = socket_.remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
}

http_connection::~http_connection() {
  if (id_ != 0) state_->remove(id_);
}

void http_connection::start() {
  id_ = state_->add(shared_from_this());
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
    // a connection accepted while stop_accepting() ran must not linger
    if (self->state_->draining || self->state_->server_gone) {
      self->close_now();
      return;
    }
    self->read_next_request(/*kept_alive=*/false);
  });
}

void http_connection::drain() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    const bool idle = self->phase_ == phase::reading && self->buffer_.size() == 0 &&
                      !(self->parser_ && self->parser_->got_some());
    if (idle) self->close_now();
    // a busy connection sees `draining` when its response is done
  });
}

void http_connection::close() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close_now(); });
}

// ---- reading -------------------------------------------------------------------

void http_connection::read_next_request(bool kept_alive) {
  phase_ = phase::reading;
  parser_.emplace();
  const auto& opts = state_->opts;
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(opts.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser_->body_limit(opts.max_body_bytes);
  parser_->eager(true);
  continue_checked_ = false;
  // A fresh connection gets read_timeout from accept for its whole first
  // request; a kept-alive one may idle, then gets read_timeout from its first byte.
  idle_wait_ = kept_alive && buffer_.size() == 0;
  set_deadline(idle_wait_ ? opts.idle_timeout : opts.read_timeout);

  if (read_pending_) {
    // The client-gone watch is still reading into buffer_, which must not be
    // touched meanwhile. With bytes already buffered (a pipelined request)
    // nothing more may come: cancel it, on_read resumes parsing.
    if (buffer_.size() > 0) {
      error_code ignored;
      socket_.cancel(ignored);
    }
    return;
  }
  if (buffer_.size() > 0)
    parse_buffered();
  else
    read_more();
}

// Reactor-style, as nginx: wait until epoll says the socket is readable,
// then read. async_read_some would first try a read, which between requests
// and while the handler works (the watch for a client leaving) is an EAGAIN
// per request.
void http_connection::read_more() {
  if (read_pending_) return;
  read_pending_ = true;
  socket_.async_wait(asio::socket_base::wait_read,
                     beast::bind_front_handler(&http_connection::on_readable, shared_from_this()));
}

void http_connection::on_readable(error_code ec) {
  if (ec || phase_ == phase::closed) return on_read(ec, 0);
  const auto size = std::min(beast::read_size(buffer_, max_read_size), max_read_size);
  const auto n = socket_.read_some(buffer_.prepare(size), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    read_pending_ = false;
    return read_more();
  }
  on_read(ec, n);
}

void http_connection::on_read(error_code ec, std::size_t n) {
  read_pending_ = false;
  if (phase_ == phase::closed) return;
  buffer_.commit(n);
  switch (phase_) {
    case phase::reading:
      // operation_aborted here is our own cancel (a timeout closes instead)
      if (ec && ec != asio::error::operation_aborted) {
        close_now();  // EOF or reset, between requests or inside one
        return;
      }
      if (buffer_.size() > 0)
        parse_buffered();
      else
        read_more();
      return;
    case phase::handling:
      if (ec) {
        close_now();  // the client left before its response was done
        return;
      }
      if (buffer_.size() < watch_buffer_cap)
        read_more();
      else
        self_hold_ = shared_from_this();  // nothing pending keeps us alive until the response
      return;
    case phase::lingering:
      if (ec) {
        close_now();
        return;
      }
      buffer_.consume(buffer_.size());
      read_more();
      return;
    case phase::closed:
      return;
  }
}

void http_connection::parse_buffered() {
  if (idle_wait_) {
    idle_wait_ = false;
    set_deadline(state_->opts.read_timeout);
  }
  while (buffer_.size() > 0) {
    error_code ec;
    const auto used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == http::error::need_more) break;
    if (ec) {
      reject(ec);
      return;
    }
    if (parser_->is_done()) {
      dispatch_request();
      return;
    }
    if (used == 0) break;
  }
  if (parser_->is_header_done() && !continue_checked_) {
    continue_checked_ = true;
    maybe_send_continue();
  }
  read_more();
}

void http_connection::maybe_send_continue() {
  // curl and others wait up to a second for this before sending a body.
  if (parser_->version() < 11) return;
  const auto expect = parser_->field("expect");
  if (!expect || !beast::iequals(*expect, "100-continue")) return;
  out_.push_borrowed("HTTP/1.1 100 Continue\r\n\r\n");
  flush();
}

void http_connection::reject(const error_code& parse_error) {
  const auto& opts = state_->opts;
  api_error err;
  if (parse_error == http::error::body_limit)
    err = payload_too_large(opts.max_body_bytes);
  else if (parse_error == http::error::header_limit)
    err = header_too_large(opts.max_header_bytes);
  else
    err = malformed_request(parse_error);
  parser_.reset();
  // The rest of the stream cannot be trusted to frame a next request.
  keep_alive_ = false;
  version_ = 11;
  head_only_ = false;
  begin_request(/*counted=*/false);
  do_respond(seq_, err.status, {{"Content-Type", "application/json"}}, err.to_body());
}

void http_connection::dispatch_request() {
  auto& parsed = *parser_;
  http_request req;
  req.method = std::move(parsed.method_string());
  req.target = std::move(parsed.target());
  split_target(req);
  req.headers = std::move(parsed.headers());
  req.body = std::move(parsed.body());
  req.remote = remote_;
  version_ = parsed.version();
  keep_alive_ = parsed.keep_alive();
  head_only_ = parsed.method() == http::verb::head;
  parser_.reset();

  begin_request(/*counted=*/true);
  if (state_->server_gone) {
    close_now();
    return;
  }
  const auto seq = seq_;
  // Kept here too: if the handler throws, its copy dies first, and the
  // answer should say the handler failed, not that it dropped the request.
  const auto handle = std::make_shared<connection_responder>(shared_from_this(), seq);
  responder_ = handle;
  try {
    state_->handler(std::move(req), handle);
  } catch (const std::exception& e) {
    const auto err = internal_error(std::string("The request handler failed: ") + e.what());
    do_respond(seq, err.status, {{"Content-Type", "application/json"}}, err.to_body());
  } catch (...) {
    const auto err = internal_error("The request handler failed.");
    do_respond(seq, err.status, {{"Content-Type", "application/json"}}, err.to_body());
  }
  // Until the response is complete, a pending read notices the client leaving.
  if (phase_ == phase::handling && seq_ == seq && !last_queued_) read_more();
}

void http_connection::begin_request(bool counted) {
  ++seq_;
  phase_ = phase::handling;
  clear_deadline();  // the handler may take as long as it needs
  counted_ = counted;
  if (counted) state_->in_flight.fetch_add(1, std::memory_order_relaxed);
  response_started_ = streaming_ = chunked_ = last_queued_ = client_gone_ = false;
  close_after_ = !keep_alive_;
  gone_fn_ = nullptr;
  responder_.reset();
}

// ---- responder entry points (any thread) -------------------------------------

void http_connection::respond(std::uint64_t seq, int status, header_list headers, std::string body) {
  posted_bytes_.fetch_add(body.size(), std::memory_order_relaxed);
  asio::dispatch(socket_.get_executor(), [self = shared_from_this(), seq, status, headers = std::move(headers),
                                          body = std::move(body)]() mutable {
    self->posted_bytes_.fetch_sub(body.size(), std::memory_order_relaxed);
    self->do_respond(seq, status, headers, std::move(body));
  });
}

void http_connection::start_stream(std::uint64_t seq, int status, header_list headers) {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this(), seq, status, headers = std::move(headers)] {
    self->do_start_stream(seq, status, headers);
  });
}

void http_connection::write(std::uint64_t seq, std::string data) {
  posted_bytes_.fetch_add(data.size(), std::memory_order_relaxed);
  asio::dispatch(socket_.get_executor(), [self = shared_from_this(), seq, data = std::move(data)]() mutable {
    self->posted_bytes_.fetch_sub(data.size(), std::memory_order_relaxed);
    self->do_write(seq, std::move(data));
  });
}

void http_connection::finish(std::uint64_t seq) {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this(), seq] { self->do_finish(seq); });
}

void http_connection::on_client_gone(std::uint64_t seq, std::function<void()> fn) {
  asio::dispatch(socket_.get_executor(), [self = shared_from_this(), seq, fn = std::move(fn)]() mutable {
    self->do_on_client_gone(seq, std::move(fn));
  });
}

void http_connection::abandon(std::uint64_t seq) {
  // post, never dispatch: the last reference may die on the connection's thread while the
  // writes another thread posted before it are still queued there.
  asio::post(socket_.get_executor(), [self = shared_from_this(), seq] {
    if (!self->is_current(seq) || self->last_queued_) return;
    if (self->response_started_) {
      self->close_now();
      return;
    }
    const auto err = internal_error("The request was dropped without an answer.");
    self->do_respond(seq, err.status, {{"Content-Type", "application/json"}}, err.to_body());
  });
}

std::size_t http_connection::pending_bytes() const {
  return posted_bytes_.load(std::memory_order_relaxed) + queued_bytes_.load(std::memory_order_relaxed);
}

// ---- responding (the connection's thread) --------------------------------------

bool http_connection::is_current(std::uint64_t seq) const { return seq == seq_ && phase_ == phase::handling; }

void http_connection::do_respond(std::uint64_t seq, int status, const header_list& headers, std::string body) {
  if (!is_current(seq) || response_started_) return;
  response_started_ = true;
  last_queued_ = true;
  close_after_ = close_after_ || asks_to_close(headers) || state_->draining;
  response_framing framing;
  framing.content_length = body.size();
  framing.close = close_after_;
  framing.keep_alive_header = version_ < 11 && !close_after_;
  write_response_head(head_, status, headers, framing);
  out_.push_borrowed(head_);
  if (!head_only_) out_.push_data(std::move(body));
  flush();
}

void http_connection::do_start_stream(std::uint64_t seq, int status, const header_list& headers) {
  if (!is_current(seq) || response_started_) return;
  response_started_ = true;
  streaming_ = true;
  chunked_ = version_ >= 11;  // HTTP/1.0 has no chunks: the body ends with the connection
  close_after_ = close_after_ || asks_to_close(headers) || state_->draining || !chunked_;
  response_framing framing;
  framing.body = chunked_ ? response_framing::body_kind::chunked : response_framing::body_kind::until_close;
  framing.close = close_after_;
  write_response_head(head_, status, headers, framing);
  out_.push_borrowed(head_);
  flush();
}

void http_connection::do_write(std::uint64_t seq, std::string data) {
  if (!is_current(seq) || !streaming_ || last_queued_ || head_only_) return;
  if (chunked_)
    out_.push_chunk(std::move(data));
  else
    out_.push_data(std::move(data));
  flush();
}

void http_connection::do_finish(std::uint64_t seq) {
  if (!is_current(seq) || !streaming_ || last_queued_) return;
  last_queued_ = true;
  if (chunked_ && !head_only_) out_.push_last_chunk();
  flush();
}

void http_connection::do_on_client_gone(std::uint64_t seq, std::function<void()> fn) {
  if (seq != seq_ || !fn) return;
  if (client_gone_) {
    run_guarded(fn);
    return;
  }
  if (phase_ == phase::handling) gone_fn_ = std::move(fn);
  // otherwise the response is complete: the client can no longer miss it
}

void http_connection::flush() {
  if (write_pending_ || phase_ == phase::closed) return;
  if (out_.empty()) {
    if (phase_ == phase::handling && last_queued_) response_written();
    return;
  }
  // Tried at once: a response or an SSE piece usually fits the socket
  // buffer, and async_write_some would post its completion (one more trip
  // through the queue per write).
  error_code ec;
  const auto n = socket_.write_some(out_.gather(), ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
    close_now();
    return;
  }
  out_.consume(n);
  if (out_.empty()) {
    // A pipelined request already buffered would be handled right here,
    // inside whoever called respond(): let it wait for a handler of its own.
    if (buffer_.size() > 0 && phase_ == phase::handling && last_queued_) {
      write_pending_ = true;
      asio::post(socket_.get_executor(), [self = shared_from_this()] {
        self->write_pending_ = false;
        if (self->phase_ != phase::closed) self->all_written();
      });
      return;
    }
    all_written();
    return;
  }
  write_pending_ = true;
  // A write that makes no progress for this long means a reader that stopped
  // reading. Each partial write restarts it (see on_write).
  if (phase_ == phase::handling) set_deadline(state_->opts.write_stall_timeout);
  socket_.async_write_some(out_.gather(), beast::bind_front_handler(&http_connection::on_write, shared_from_this()));
}

void http_connection::on_write(error_code ec, std::size_t n) {
  write_pending_ = false;
  if (phase_ == phase::closed) return;
  if (ec) {
    close_now();
    return;
  }
  out_.consume(n);
  if (!out_.empty()) {
    flush();
    return;
  }
  all_written();
}

void http_connection::all_written() {
  if (phase_ == phase::handling) {
    clear_deadline();
    if (last_queued_) response_written();
  }
  // in phase::reading this was a 100 Continue: the read deadline stands
}

void http_connection::response_written() {
  const auto keep = std::move(self_hold_);  // released on return, after the last member access
  if (counted_) {
    counted_ = false;
    state_->in_flight.fetch_sub(1, std::memory_order_relaxed);
  }
  gone_fn_ = nullptr;  // will never run: let go of what it captured
  if (close_after_ || state_->draining) {
    linger();
    return;
  }
  read_next_request(/*kept_alive=*/true);
}

// ---- ending --------------------------------------------------------------------

void http_connection::linger() {
  phase_ = phase::lingering;
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  set_deadline(std::min<clock::duration>(max_linger, state_->opts.read_timeout));
  if (read_pending_) return;  // the pending read now drains
  buffer_.consume(buffer_.size());
  read_more();
}

void http_connection::close_now() {
  if (phase_ == phase::closed) return;
  const auto keep = std::move(self_hold_);  // released on return, after the last member access
  const bool unfinished = phase_ == phase::handling;
  phase_ = phase::closed;
  error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
  out_.clear();
  parser_.reset();
  if (id_ != 0) {
    state_->remove(id_);
    id_ = 0;
  }
  if (!unfinished) return;
  if (counted_) {
    counted_ = false;
    state_->in_flight.fetch_sub(1, std::memory_order_relaxed);
  }
  client_gone_ = true;
  if (auto r = responder_.lock()) r->mark_gone();
  if (gone_fn_) {
    auto fn = std::move(gone_fn_);
    gone_fn_ = nullptr;
    run_guarded(fn);
  }
}

// ---- the deadline --------------------------------------------------------------
// One timer per connection, re-armed only when a deadline moves earlier: most
// updates (every partial write, every request) just move deadline_ later, and
// a timer that fires early re-arms itself for the rest.

void http_connection::set_deadline(clock::duration d) {
  deadline_ = clock::now() + d;
  if (!timer_waiting_ || deadline_ < timer_.expiry()) arm_timer();
}

void http_connection::arm_timer() {
  timer_waiting_ = true;
  timer_.expires_at(deadline_);  // cancels a wait in progress; its handler returns at once
  timer_.async_wait(beast::bind_front_handler(&http_connection::on_timer, shared_from_this()));
}

void http_connection::on_timer(error_code ec) {
  if (ec == asio::error::operation_aborted || phase_ == phase::closed) return;
  const auto now = clock::now();
  if (timer_.expiry() > now) return;  // a completion that raced a re-arm; the newer wait is pending
  timer_waiting_ = false;
  if (deadline_ == clock::time_point::max()) return;
  if (now >= deadline_) {
    close_now();  // slow or idle reader, stalled writer, or the linger is over
    return;
  }
  arm_timer();
}

}  // namespace sb::net
