#include "tests/fakes/fake_server.hpp"

#include <atomic>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "tests/fakes/provider_state.hpp"
#include "tests/fakes/request_router.hpp"

namespace sb::fakes {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t max_body_bytes = 64u << 20;

std::string reason_phrase(int status) {
  if (status == 529) return "Site Overloaded";  // Anthropic's, unknown to Beast
  const auto reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
  return reason == "<unknown-status>" ? std::string("Status") : std::string(reason);
}

// The status line and headers, written by hand: a faithful head is easier to
// control than Beast's serializer for chunked streams cut short on purpose.
std::string head_of(const reply_plan& plan, bool keep_alive) {
  std::string head = "HTTP/1.1 " + std::to_string(plan.status) + " " + reason_phrase(plan.status) + "\r\n";
  for (const auto& [name, value] : plan.headers) head += name + ": " + value + "\r\n";
  if (plan.streamed)
    head += "transfer-encoding: chunked\r\n";
  else
    head += "content-length: " + std::to_string(plan.body.size()) + "\r\n";
  head += keep_alive ? "connection: keep-alive\r\n\r\n" : "connection: close\r\n\r\n";
  return head;
}

void append_chunk(std::string& out, const std::string& data) {
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out += size;
  out += data;
  out += "\r\n";
}

recorded_request to_recorded(http::request<http::string_body>&& msg, std::uint64_t connection_id) {
  recorded_request r;
  r.received_at = clock::now();
  r.connection_id = connection_id;
  r.method = std::string(msg.method_string());
  r.target = std::string(msg.target());
  for (const auto& field : msg) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto [it, inserted] = r.headers.emplace(name, std::string(field.value()));
    if (!inserted) it->second += ", " + std::string(field.value());
  }
  r.body = std::move(msg.body());
  return r;
}

// One connection. Every handler runs on the connection's strand. While a
// reply is being produced a read stays pending, so a client that leaves is
// seen (and its close time recorded) at once rather than at the next write.
template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
  static constexpr bool is_tls = !std::is_same_v<Stream, tcp::socket>;

 public:
  session(Stream stream, std::shared_ptr<provider_state> state, std::uint64_t id)
      : stream_(std::move(stream)), timer_(stream_.get_executor()), state_(std::move(state)), id_(id) {}

  ~session() { note_closed(); }

  void start() {
    if constexpr (is_tls) {
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->close();
        self->read_request();
      });
    } else {
      read_request();
    }
  }

 private:
  enum class next_step { finish, delay, reset };

  tcp::socket& socket() { return beast::get_lowest_layer(stream_); }

  void read_request() {
    parser_.emplace();
    parser_->body_limit(max_body_bytes);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_request(ec); });
  }

  void on_request(beast::error_code ec) {
    if (ec) return close();
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    plan_ = answer(*state_, to_recorded(std::move(msg), id_));
    responding_ = true;
    head_sent_ = false;
    next_event_ = 0;
    content_sent_ = 0;
    delay_served_ = false;
    watch_for_close();
    if (plan_.hang) return;
    if (plan_.head_delay.count() > 0) {
      timer_.expires_after(plan_.head_delay);
      timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
        if (!ec && !self->closed_) self->write_next();
      });
    } else {
      write_next();
    }
  }

  // Reads into the request buffer, so bytes that do arrive (a pipelined
  // request) are parsed once the current reply is done.
  void watch_for_close() {
    if (watching_ || closed_) return;
    watching_ = true;
    stream_.async_read_some(buffer_.prepare(4096), [self = this->shared_from_this()](beast::error_code ec,
                                                                                      std::size_t n) {
      self->watching_ = false;
      if (ec) return self->close();
      self->buffer_.commit(n);
      if (!self->responding_) self->read_request();
    });
  }

  void write_next() {
    if (closed_) return;
    if (!plan_.streamed) {
      if (plan_.reset_after_chunks >= 0) return reset();  // a connection error, no answer
      out_ = head_of(plan_, keep_alive_);
      out_ += plan_.body;
      head_sent_ = true;
      return write(next_step::finish);
    }
    out_.clear();
    if (!head_sent_) {
      out_ = head_of(plan_, keep_alive_);
      head_sent_ = true;
    }
    next_step step = next_step::finish;
    // Everything up to the next delay or reset goes out in one write: with no
    // delays a whole stream is a single syscall, which the benchmark needs.
    while (next_event_ < plan_.events.size()) {
      const sse_event& event = plan_.events[next_event_];
      if (event.content) {
        if (plan_.reset_after_chunks >= 0 && content_sent_ >= plan_.reset_after_chunks) {
          step = next_step::reset;
          break;
        }
        if (plan_.chunk_delay.count() > 0 && !delay_served_) {
          step = next_step::delay;
          break;
        }
        delay_served_ = false;
        ++content_sent_;
      }
      append_chunk(out_, event.frame);
      ++next_event_;
    }
    if (step == next_step::finish) out_ += "0\r\n\r\n";
    if (out_.empty()) return run(step);
    write(step);
  }

  void write(next_step step) {
    net::async_write(stream_, net::buffer(out_),
                     [self = this->shared_from_this(), step](beast::error_code ec, std::size_t) {
                       if (ec) return self->close();
                       if (!self->closed_) self->run(step);
                     });
  }

  void run(next_step step) {
    switch (step) {
      case next_step::reset: return reset();
      case next_step::finish: return finish_reply();
      case next_step::delay:
        timer_.expires_after(plan_.chunk_delay);
        timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
          if (ec || self->closed_) return;
          self->delay_served_ = true;
          self->write_next();
        });
        return;
    }
  }

  void finish_reply() {
    responding_ = false;
    plan_ = reply_plan{};
    if (!keep_alive_) {
      beast::error_code ignored;
      socket().shutdown(tcp::socket::shutdown_send, ignored);
      return close();
    }
    // A pending watch read delivers the next request's first bytes itself.
    if (!watching_) read_request();
  }

  // An abrupt close: RST instead of FIN, like a crashed upstream.
  void reset() {
    beast::error_code ignored;
    socket().set_option(net::socket_base::linger(true, 0), ignored);
    close();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    note_closed();
    timer_.cancel();
    beast::error_code ignored;
    socket().close(ignored);
  }

  void note_closed() {
    if (noted_) return;
    noted_ = true;
    state_->on_close(id_, clock::now());
  }

  Stream stream_;
  net::steady_timer timer_;
  std::shared_ptr<provider_state> state_;
  const std::uint64_t id_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  reply_plan plan_;
  std::string out_;
  bool keep_alive_ = true;
  bool responding_ = false;
  bool watching_ = false;
  bool head_sent_ = false;
  bool delay_served_ = false;
  bool closed_ = false;
  bool noted_ = false;
  std::size_t next_event_ = 0;
  int content_sent_ = 0;
};

}  // namespace

struct fake_server::impl {
  explicit impl(std::shared_ptr<provider_state> s) : state(std::move(s)) {}

  void accept() {
    acceptor->async_accept(net::make_strand(*ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec != net::error::operation_aborted && acceptor->is_open()) accept();
        return;
      }
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      const std::uint64_t id = state->on_accept();
      if (tls)
        std::make_shared<session<ssl::stream<tcp::socket>>>(ssl::stream<tcp::socket>(std::move(socket), *tls), state,
                                                             id)
            ->start();
      else
        std::make_shared<session<tcp::socket>>(std::move(socket), state, id)->start();
      accept();
    });
  }

  std::shared_ptr<provider_state> state;
  // Declared before the io_context so it outlives the sessions that use it.
  std::optional<ssl::context> tls;
  std::unique_ptr<net::io_context> ioc = std::make_unique<net::io_context>();
  std::optional<tcp::acceptor> acceptor{std::in_place, *ioc};
  std::vector<std::thread> threads;
  unsigned short port = 0;
  std::atomic<bool> stopped{false};
};

fake_server::fake_server(std::shared_ptr<provider_state> state) : impl_(std::make_unique<impl>(std::move(state))) {
  const fake_options& options = impl_->state->options();
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    impl_->tls.emplace(ssl::context::tls_server);
    try {
      impl_->tls->use_certificate_chain_file(options.tls_cert_file);
      impl_->tls->use_private_key_file(options.tls_key_file, ssl::context::pem);
    } catch (const std::exception& e) {
      throw std::runtime_error("fake provider: cannot load TLS certificate/key: " + std::string(e.what()));
    }
  }
  beast::error_code ec;
  const auto address = net::ip::make_address(options.host == "localhost" ? "127.0.0.1" : options.host, ec);
  if (ec) throw std::runtime_error("fake provider: bad host " + options.host);
  const tcp::endpoint endpoint(address, options.port);
  auto& acceptor = *impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("fake provider: cannot listen on " + options.host + ":" + std::to_string(options.port) +
                             ": " + ec.message());
  impl_->port = acceptor.local_endpoint().port();
  impl_->accept();
  for (int i = 0; i < std::max(1, options.threads); ++i) impl_->threads.emplace_back([this] { impl_->ioc->run(); });
}

fake_server::~fake_server() { stop(); }

unsigned short fake_server::port() const { return impl_->port; }

void fake_server::stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->ioc->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->acceptor.reset();
  // Destroying the io_context destroys its pending handlers, and with them
  // every session: each socket closes now, not when the fake is destroyed.
  impl_->ioc.reset();
}

}  // namespace sb::fakes
