#include "cluster/open_quota_store.hpp"

#include "cluster/ledger_usage_seed.hpp"
#include "cluster/local_quota_store.hpp"
#include "cluster/open_ledger_store.hpp"
#include "cluster/redis_quota_store.hpp"

namespace sb::cluster {

usage_seed lazy_ledger_seed(const std::string& database_url) {
  auto ledger = std::make_shared<std::shared_ptr<ledger_store>>();
  return [ledger, database_url](const std::string& workspace,
                                const std::string& period) -> store_result<quota_amount> {
    if (!*ledger) {
      auto opened = open_ledger_store(database_url);
      if (!opened) return opened.error();
      *ledger = *opened;
    }
    auto seed = ledger_usage_seed(*ledger)(workspace, period);
    if (!seed && seed.error().code == store_errc::unavailable) ledger->reset();  // reopen next time
    return seed;
  };
}

store_result<std::shared_ptr<quota_store>> open_quota_store(const std::string& redis_url,
                                                            const std::string& database_url,
                                                            redis_options options) {
  if (auto where = parse_database_url(database_url); !where) return where.error();
  auto seed = lazy_ledger_seed(database_url);
  if (redis_url.empty()) return std::shared_ptr<quota_store>(std::make_shared<local_quota_store>(seed));
  auto redis = redis_quota_store::from_url(redis_url, options, seed);
  if (!redis) return redis.error();
  return std::shared_ptr<quota_store>(std::move(*redis));
}

}  // namespace sb::cluster
