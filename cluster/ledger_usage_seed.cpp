#include "cluster/ledger_usage_seed.hpp"

#include <cmath>

namespace sb::cluster {

usage_seed ledger_usage_seed(std::shared_ptr<ledger_store> ledger) {
  return [ledger](const std::string& workspace, const std::string& period)
             -> store_result<quota_amount> {
    auto sum = ledger->aggregate(workspace, period);
    if (!sum) return sum.error();
    return quota_amount{sum->total_tokens,
                        static_cast<std::int64_t>(std::ceil(sum->cost_estimate_usd * 1e6 - 1e-6))};
  };
}

}  // namespace sb::cluster
