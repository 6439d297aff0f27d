#include "net/upstream_client.hpp"

#include <atomic>
#include <vector>

#include "net/io_threads.hpp"
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
// With io_threads, one pool per context: a call made on an I/O thread uses
// that thread's connections, so its socket's handlers run where its session
// does.
struct upstream_client::impl {
  std::vector<std::shared_ptr<upstream_pool>> pools;
  io_threads* threads = nullptr;
  std::atomic<std::size_t> turn{0};

  upstream_pool& pick() {
    if (threads) {
      if (auto i = threads->current()) return *pools[*i];
      return *pools[turn++ % pools.size()];
    }
    return *pools.front();
  }
};

upstream_client::upstream_client(boost::asio::io_context& ioc, upstream_client_options opts)
    : impl_(std::make_unique<impl>()) {
  impl_->pools.push_back(std::make_shared<upstream_pool>(ioc, std::move(opts)));
}

upstream_client::upstream_client(io_threads& threads, upstream_client_options opts)
    : impl_(std::make_unique<impl>()) {
  impl_->threads = &threads;
  for (std::size_t i = 0; i < threads.size(); ++i)
    impl_->pools.push_back(std::make_shared<upstream_pool>(threads.at(i), opts));
}

upstream_client::~upstream_client() {
  for (auto& p : impl_->pools) p->close();
}

std::shared_ptr<upstream_call> upstream_client::start(upstream_request req, upstream_handlers handlers) {
  auto& pool = impl_->pick();
  return start_upstream_exchange(pool.shared_from_this(), std::move(req), std::move(handlers));
}

std::size_t upstream_client::idle_connections() const {
  std::size_t n = 0;
  for (auto& p : impl_->pools) n += p->idle_count();
  return n;
}

}  // namespace sb::net
