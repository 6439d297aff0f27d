#pragma once
// The quota stores' usage_seed, read from the ledger: a counter that starts
// (process start, new Redis, lost Redis data) starts from the month's
// recorded usage instead of zero, so a restart never hands out a fresh cap.

#include <memory>

#include "cluster/ledger_store.hpp"
#include "cluster/quota_store.hpp"

namespace sb::cluster {

/// Holds `ledger` (which must only be used by the thread that calls the
/// seed: give it its own connection).
usage_seed ledger_usage_seed(std::shared_ptr<ledger_store> ledger);

}  // namespace sb::cluster
