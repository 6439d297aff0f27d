#pragma once
// One synchronous hiredis connection with the failure handling every Redis
// user here needs: connect and command timeouts, reconnect on the next call
// after a failure, and a short pause between reconnect attempts so a Redis
// outage costs callers a fast error, not a connect timeout each.
//
// Not thread-safe: one owner (a detached actor or one thread).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cluster/store_error.hpp"

struct redisContext;
struct redisReply;

namespace sb::cluster {

struct redis_endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string password;  // empty = no AUTH
  int db = 0;
};

/// redis://[[user]:password@]host[:port][/db]
store_result<redis_endpoint> parse_redis_url(const std::string& url);

struct redis_options {
  std::chrono::milliseconds connect_timeout{500};
  std::chrono::milliseconds command_timeout{1000};
  std::chrono::milliseconds reconnect_pause{200};  // after a failure, fail fast this long
};

/// A reply, freed when it goes out of scope.
struct redis_reply_deleter {
  void operator()(redisReply* r) const;
};
using redis_reply = std::unique_ptr<redisReply, redis_reply_deleter>;

class redis_connection {
 public:
  redis_connection(redis_endpoint endpoint, redis_options options);
  ~redis_connection();
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  /// Runs one command (binary-safe arguments). An error reply from Redis is
  /// query_failed (LOADING, BUSY, MASTERDOWN: unavailable); no connection, a
  /// timeout or a broken socket is unavailable (and the next call
  /// reconnects). An `idempotent` command that fails on a connection opened
  /// earlier (stale after a Redis restart) is retried once on a new one.
  store_result<redis_reply> command(const std::vector<std::string>& argv, bool idempotent);

 private:
  store_status connect();
  void drop();
  store_result<redis_reply> command_once(const std::vector<std::string>& argv);

  redis_endpoint endpoint_;
  redis_options options_;
  redisContext* ctx_ = nullptr;
  std::chrono::steady_clock::time_point next_attempt_{};
};

}  // namespace sb::cluster
