#pragma once
// Quota counters shared by every node on one Redis. One hash per workspace
// and period, `sb:quota:<workspace>:<period>`, fields:
//   t   tokens counted (reserved and not yet settled, plus settled usage)
//   c   cost counted, micro-dollars
//   g   generation: a random id given when the hash is created (seeded from
//       the ledger); a reservation remembers it, so a settle can tell the
//       counter it reserved against from one rebuilt after Redis lost data
//   r:<id>  one field per reservation in flight: makes reserve and settle
//       idempotent, so a command retried after a lost reply counts once
// The whole check-and-increment is one Lua script: Redis runs scripts one at
// a time, so N nodes admit exactly what one node would. TTL 40 days.
//
// Thread-safe (one mutex around the one connection); for more throughput
// give each thread its own store.

#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "cluster/quota_store.hpp"
#include "cluster/redis_connection.hpp"

namespace sb::cluster {

class redis_quota_store final : public quota_store {
 public:
  static constexpr std::chrono::seconds key_ttl{40 * 24 * 3600};

  redis_quota_store(redis_endpoint endpoint, redis_options options, usage_seed seed = {});
  /// From REDIS_URL; bad_url when it cannot be read. Does not connect yet.
  static store_result<std::unique_ptr<redis_quota_store>> from_url(const std::string& redis_url,
                                                                   redis_options options = {},
                                                                   usage_seed seed = {});

  store_result<quota_decision> reserve(const std::string& workspace, const std::string& period,
                                       quota_amount amount, const quota_caps& caps) override;
  store_status settle(const quota_reservation& reservation, quota_amount actual) override;
  store_result<quota_amount> usage(const std::string& workspace,
                                   const std::string& period) override;
  store_status ping() override;
  [[nodiscard]] const char* backend() const override { return "redis"; }

  /// The key of a workspace's counter for a period.
  static std::string key_of(const std::string& workspace, const std::string& period);

 private:
  std::string random_id();

  usage_seed seed_;
  std::mutex mu_;
  redis_connection conn_;
  std::mt19937_64 rng_;
};

}  // namespace sb::cluster
