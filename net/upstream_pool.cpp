#include "net/upstream_pool.hpp"

#include <openssl/ssl.h>

#include <algorithm>

namespace sb::net {

namespace ssl = boost::asio::ssl;

upstream_pool::upstream_pool(boost::asio::io_context& ioc, upstream_client_options opts)
    : ioc_(ioc), opts_(std::move(opts)), tls_(ssl::context::tls_client), sweep_timer_(ioc) {
  boost::system::error_code ec;
  // A machine without a system store can still reach hosts that ca_file covers.
  tls_.set_default_verify_paths(ec);
  if (!opts_.ca_file.empty()) {
    tls_.load_verify_file(opts_.ca_file, ec);
    if (ec) {
      tls_ok_ = false;
      tls_error_ = "cannot load ca_file " + opts_.ca_file + ": " + ec.message();
    }
  }
  tls_.set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION);
}

namespace {
constexpr std::chrono::seconds recently_used{1};
}  // namespace

std::unique_ptr<upstream_connection> upstream_pool::acquire(const std::string& origin) {
  std::vector<std::unique_ptr<upstream_connection>> closing;  // closed after the lock is released
  std::lock_guard lock(mutex_);
  auto found = idle_.find(origin);
  if (found == idle_.end()) {
    return nullptr;
  }
  auto& list = found->second;
  auto now = clock::now();
  while (!list.empty()) {
    // The newest is the likeliest to be alive and to have a warm window.
    auto entry = std::move(list.back());
    list.pop_back();
    --idle_total_;
    // The peek is a syscall per call: skipped for a connection idle less than
    // a second, which a server has rarely closed yet; if it had, the call's
    // one transparent retry (nothing came back) covers it.
    const auto idle = now - entry.idle_since;
    if (idle < opts_.idle_expiry && (idle < recently_used || entry.conn->looks_alive())) {
      return std::move(entry.conn);
    }
    closing.push_back(std::move(entry.conn));
  }
  return nullptr;
}

void upstream_pool::release(const std::string& origin, std::unique_ptr<upstream_connection> conn) {
  std::vector<std::unique_ptr<upstream_connection>> closing;
  std::lock_guard lock(mutex_);
  if (closed_ || opts_.max_idle_per_origin == 0) {
    closing.push_back(std::move(conn));
    return;
  }
  auto& list = idle_[origin];
  list.push_back({std::move(conn), clock::now()});
  ++idle_total_;
  if (list.size() > opts_.max_idle_per_origin) {
    closing.push_back(std::move(list.front().conn));
    list.erase(list.begin());
    --idle_total_;
  }
  arm_sweep_locked();
}

std::size_t upstream_pool::idle_count() const {
  std::lock_guard lock(mutex_);
  return idle_total_;
}

void upstream_pool::close() {
  std::vector<std::unique_ptr<upstream_connection>> closing;
  std::lock_guard lock(mutex_);
  closed_ = true;
  sweep_timer_.cancel();
  for (auto& [origin, list] : idle_) {
    for (auto& entry : list) {
      closing.push_back(std::move(entry.conn));
    }
  }
  idle_.clear();
  idle_total_ = 0;
}

// Idle sockets are no work for the io_context, but this timer is: it runs
// only while something is idle, so an unused client leaves run() free to end.
void upstream_pool::arm_sweep_locked() {
  if (sweep_armed_ || closed_ || idle_total_ == 0) {
    return;
  }
  auto oldest = clock::time_point::max();
  for (const auto& [origin, list] : idle_) {
    if (!list.empty()) {
      oldest = std::min(oldest, list.front().idle_since);
    }
  }
  sweep_armed_ = true;
  sweep_timer_.expires_at(oldest + opts_.idle_expiry);
  sweep_timer_.async_wait([weak = weak_from_this()](boost::system::error_code) {
    if (auto self = weak.lock()) {
      self->on_sweep();
    }
  });
}

void upstream_pool::sweep_expired_locked(std::vector<std::unique_ptr<upstream_connection>>& closing) {
  auto now = clock::now();
  for (auto& [origin, list] : idle_) {
    // Oldest first, so the expired ones are a prefix.
    auto first_fresh = std::find_if(list.begin(), list.end(), [&](const idle_connection& entry) {
      return now - entry.idle_since < opts_.idle_expiry;
    });
    for (auto it = list.begin(); it != first_fresh; ++it) {
      closing.push_back(std::move(it->conn));
    }
    idle_total_ -= static_cast<std::size_t>(first_fresh - list.begin());
    list.erase(list.begin(), first_fresh);
  }
}

void upstream_pool::on_sweep() {
  std::vector<std::unique_ptr<upstream_connection>> closing;
  std::lock_guard lock(mutex_);
  sweep_armed_ = false;
  if (closed_) {
    return;
  }
  sweep_expired_locked(closing);
  arm_sweep_locked();
}

}  // namespace sb::net
