#include "net/upstream_client.hpp"

#include "net/upstream_exchange.hpp"
#include "net/upstream_pool.hpp"

namespace sb::net {

const char* to_string(upstream_error e) {
  switch (e) {
    case upstream_error::resolve_failed: return "resolve_failed";
    case upstream_error::connect_failed: return "connect_failed";
    case upstream_error::tls_failed: return "tls_failed";
    case upstream_error::timeout_connect: return "timeout_connect";
    case upstream_error::timeout_first_byte: return "timeout_first_byte";
    case upstream_error::timeout_total: return "timeout_total";
    case upstream_error::connection_reset: return "connection_reset";
    case upstream_error::protocol_error: return "protocol_error";
    case upstream_error::cancelled: return "cancelled";
  }
  return "unknown";
}

// The pool is shared with the calls in flight, so that they stay valid when
// the client goes first; the client only closes it.
struct upstream_client::impl {
  std::shared_ptr<upstream_pool> pool;
};

upstream_client::upstream_client(boost::asio::io_context& ioc, upstream_client_options opts)
    : impl_(std::make_unique<impl>(impl{std::make_shared<upstream_pool>(ioc, std::move(opts))})) {}

upstream_client::~upstream_client() { impl_->pool->close(); }

std::shared_ptr<upstream_call> upstream_client::start(upstream_request req, upstream_handlers handlers) {
  return start_upstream_exchange(impl_->pool, std::move(req), std::move(handlers));
}

std::size_t upstream_client::idle_connections() const { return impl_->pool->idle_count(); }

}  // namespace sb::net
