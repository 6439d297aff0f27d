#pragma once
// In-process quota counters (one node, no Redis). Thread-safe: one mutex; a
// reserve is a few map operations.

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "cluster/quota_store.hpp"

namespace sb::cluster {

class local_quota_store final : public quota_store {
 public:
  /// `seed` gives the usage already recorded when a counter is first needed
  /// (empty: start at zero).
  explicit local_quota_store(usage_seed seed = {}) : seed_(std::move(seed)) {}

  store_result<quota_decision> reserve(const std::string& workspace, const std::string& period,
                                       quota_amount amount, const quota_caps& caps) override;
  store_status settle(const quota_reservation& reservation, quota_amount actual) override;
  store_result<quota_amount> usage(const std::string& workspace,
                                   const std::string& period) override;
  store_status ping() override { return std::nullopt; }
  [[nodiscard]] const char* backend() const override { return "local"; }

 private:
  using key = std::pair<std::string, std::string>;  // workspace, period
  /// The counter of `k`, seeding it on first use. Caller holds mu_.
  store_result<quota_amount*> counter(const key& k);

  usage_seed seed_;
  std::mutex mu_;
  std::map<key, quota_amount> counters_;
};

}  // namespace sb::cluster
