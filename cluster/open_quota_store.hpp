#pragma once
// REDIS_URL (and DATABASE_URL, for seeding) -> the quota store to use:
// no REDIS_URL: local_quota_store (embedded mode); else redis_quota_store.
// Either way a counter that starts (process start, new Redis, Redis that
// lost its data) starts from the ledger's usage for the month.

#include <memory>
#include <string>

#include "cluster/quota_store.hpp"
#include "cluster/redis_connection.hpp"

namespace sb::cluster {

/// Does not connect yet (a Redis that is down at start is an outage like any
/// other, see ADR-0009); fails only on a bad URL. The store is meant for one
/// thread, the quota actor's: it opens its own ledger connection, lazily.
store_result<std::shared_ptr<quota_store>> open_quota_store(const std::string& redis_url,
                                                            const std::string& database_url,
                                                            redis_options options = {});

/// The seed alone: opens the ledger at `database_url` on first use (and
/// again after a failure).
usage_seed lazy_ledger_seed(const std::string& database_url);

}  // namespace sb::cluster
