#pragma once
// Monthly counters per workspace that admit a request only if it fits the
// caps: reserve before the upstream call, settle to the real count after.
// Tokens and cost are counted together; cost in integer micro-dollars, so
// sums are exact and a cap compares without rounding surprises.
//
// local_quota_store: one process (the embedded default).
// redis_quota_store: every node sharing one Redis (cluster mode).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "cluster/store_error.hpp"

namespace sb::cluster {

struct quota_amount {
  std::int64_t tokens = 0;
  std::int64_t cost_micros = 0;  // 1 USD = 1'000'000
  bool operator==(const quota_amount& o) const {
    return tokens == o.tokens && cost_micros == o.cost_micros;
  }
};

/// nullopt = no cap of that kind.
struct quota_caps {
  std::optional<std::int64_t> tokens;
  std::optional<std::int64_t> cost_micros;
  [[nodiscard]] bool any() const { return tokens || cost_micros; }
};

/// What a successful reserve holds, to be given back to settle.
struct quota_reservation {
  std::string workspace;
  std::string period;       // the period it was counted in, even if settled in the next
  quota_amount amount;
  std::string generation;   // which incarnation of the counter holds it (see redis_quota_store)
  std::string id;           // unique per reservation: settle applies once
};

enum class quota_limit : std::uint8_t { none, tokens, cost };

struct quota_decision {
  bool admitted = false;
  quota_limit refused_by = quota_limit::none;  // which cap did not fit
  quota_amount used;   // the counter after this reservation (admitted) or as found (refused)
  std::optional<std::int64_t> remaining_tokens;       // cap - used, >= 0; nullopt = no token cap
  std::optional<std::int64_t> remaining_cost_micros;  // likewise for cost
  quota_reservation reservation;  // meaningful when admitted
};

/// The usage already recorded for (workspace, period) when no counter exists
/// yet: first use on this process, a new month, or a Redis that lost its
/// data. Wired to the ledger so a restart never resets a month's count.
using usage_seed =
    std::function<store_result<quota_amount>(const std::string& workspace, const std::string& period)>;

class quota_store {
 public:
  virtual ~quota_store() = default;
  /// Admits `amount` if used + amount fits every cap, counting it atomically.
  virtual store_result<quota_decision> reserve(const std::string& workspace,
                                               const std::string& period, quota_amount amount,
                                               const quota_caps& caps) = 0;
  /// Replaces the reservation by the real usage: adds actual - reserved
  /// (never below zero).
  virtual store_status settle(const quota_reservation& reservation, quota_amount actual) = 0;
  /// What the counter holds now.
  virtual store_result<quota_amount> usage(const std::string& workspace,
                                           const std::string& period) = 0;
  /// Reachable? (GET /readyz)
  virtual store_status ping() = 0;
  /// "local" or "redis", for logs.
  [[nodiscard]] virtual const char* backend() const = 0;
};

/// Fills remaining_* of a decision from the caps.
void fill_remaining(quota_decision& d, const quota_caps& caps);

}  // namespace sb::cluster
