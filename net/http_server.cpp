#include "net/http_server.hpp"

#include <functional>
#include <mutex>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/string.hpp>

#include "net/http_connection.hpp"
#include "net/io_threads.hpp"

namespace sb::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

std::optional<std::string_view> http_request::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (boost::beast::iequals(n, name)) return std::string_view(v);
  return std::nullopt;
}

// The listener. Pending accepts hold it through shared_from_this, so it may
// outlive http_server until the io_context runs or is destroyed.
struct http_server::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& ioc, http_server_options opts, request_handler handler,
       std::function<asio::io_context&()> pick)
      : ioc(ioc),
        connection_context(pick ? std::move(pick) : [&ioc]() -> asio::io_context& { return ioc; }),
        state(std::make_shared<server_state>(std::move(opts), std::move(handler))),
        acceptor(ioc),
        retry_timer(acceptor.get_executor()) {}

  asio::io_context& ioc;  // the acceptor's
  std::function<asio::io_context&()> connection_context;  // each new connection's
  std::shared_ptr<server_state> state;
  // Every use of the acceptor takes accept_mu, so that stop_accepting() can
  // close it synchronously from any thread (the port is free on return).
  std::mutex accept_mu;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;

  std::pair<std::uint16_t, std::string> listen();
  void do_accept();
  void on_accept(const error_code& ec, http_connection::socket_type socket);
  void close_acceptor();
};

std::pair<std::uint16_t, std::string> http_server::impl::listen() {
  const auto& opts = state->opts;
  error_code ec;
  tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(opts.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, opts.port);
  } else {  // a name such as "localhost"
    tcp::resolver resolver(ioc);
    const auto results = resolver.resolve(opts.host, std::to_string(opts.port), tcp::resolver::passive, ec);
    if (ec || results.empty()) return {0, "cannot resolve listen host '" + opts.host + "': " + ec.message()};
    endpoint = results.begin()->endpoint();
  }
  const auto where = opts.host + ":" + std::to_string(opts.port);
  std::lock_guard lock(accept_mu);
  if (acceptor.is_open()) return {0, "already listening"};
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return {0, "cannot open a socket for " + where + ": " + ec.message()};
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  acceptor.bind(endpoint, ec);
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    return {0, "cannot bind " + where + ": " + ec.message()};
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    return {0, "cannot listen on " + where + ": " + ec.message()};
  }
  const auto port = acceptor.local_endpoint(ec).port();
  asio::dispatch(acceptor.get_executor(), [self = shared_from_this()] { self->do_accept(); });
  return {port, {}};
}

void http_server::impl::do_accept() {
  std::lock_guard lock(accept_mu);
  if (!acceptor.is_open()) return;
  // A connection lives on one context, which one thread runs: its handlers
  // never run concurrently, and no lock or strand is needed inside it.
  acceptor.async_accept(connection_context().get_executor(),
                        [self = shared_from_this()](const error_code& ec, auto socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void http_server::impl::on_accept(const error_code& ec, http_connection::socket_type socket) {
  if (ec == asio::error::operation_aborted) return;  // closed
  if (ec) {
    // Out of descriptors or a transient error: pause rather than spin.
    std::lock_guard lock(accept_mu);
    if (!acceptor.is_open()) return;
    retry_timer.expires_after(std::chrono::milliseconds(50));
    retry_timer.async_wait([self = shared_from_this()](const error_code& e) {
      if (!e) self->do_accept();
    });
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // streamed chunks must not wait for Nagle
  std::make_shared<http_connection>(state, std::move(socket))->start();
  do_accept();
}

void http_server::impl::close_acceptor() {
  std::lock_guard lock(accept_mu);
  error_code ignored;
  acceptor.close(ignored);
  retry_timer.cancel();
}

http_server::http_server(asio::io_context& ioc, http_server_options opts, request_handler handler)
    : impl_(std::make_shared<impl>(ioc, std::move(opts), std::move(handler), nullptr)) {}

http_server::http_server(io_threads& threads, http_server_options opts, request_handler handler)
    : impl_(std::make_shared<impl>(threads.at(0), std::move(opts), std::move(handler),
                                   [&threads]() -> asio::io_context& { return threads.next(); })) {}

http_server::~http_server() {
  // Safe with the io_context stopped: nothing here waits for it. The posted
  // closes run if it runs again, or are destroyed with it.
  impl_->state->server_gone = true;
  close_all();
}

std::pair<std::uint16_t, std::string> http_server::listen() { return impl_->listen(); }

void http_server::stop_accepting() {
  impl_->state->draining = true;
  impl_->close_acceptor();
  for (auto& c : impl_->state->connections()) c->drain();
}

std::size_t http_server::in_flight() const { return impl_->state->in_flight.load(std::memory_order_relaxed); }

void http_server::close_all() {
  impl_->state->draining = true;
  impl_->close_acceptor();
  for (auto& c : impl_->state->connections()) c->close();
}

}  // namespace sb::net
