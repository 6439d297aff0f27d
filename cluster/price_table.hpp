#pragma once
// What a call costs: USD per million tokens, in and out, per "provider/model".
// A built-in table covers every provider's default models (SPEC section 2);
// config `prices` overrides or extends it. A model priced nowhere costs 0 and
// is flagged, so the caller can count it (a metric) instead of billing
// nothing silently.
//
// An immutable value: build once per config snapshot, share freely.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/config.hpp"

namespace sb::cluster {

struct call_cost {
  double usd = 0;                 // the ledger's cost_estimate_usd
  std::int64_t micros = 0;        // the same, integer micro-dollars, rounded up (quota)
  bool known = false;             // false: no price for this model, cost is 0
};

class price_table {
 public:
  /// The built-in prices, then `overrides` ("provider/model" -> price) on top.
  explicit price_table(const std::map<std::string, price>& overrides = {});

  /// The price of a model: exact "provider/model" first, else the longest
  /// entry of that provider the model's name extends with "-" (so a dated
  /// answer like gpt-4o-mini-2024-07-18 costs what gpt-4o-mini costs).
  [[nodiscard]] const price* find(const std::string& provider, const std::string& model) const;

  [[nodiscard]] call_cost cost(const std::string& provider, const std::string& model,
                               std::int64_t prompt_tokens, std::int64_t completion_tokens) const;

  [[nodiscard]] const std::map<std::string, price>& entries() const { return prices_; }

 private:
  struct remembered;  // cost()'s lookups, by provider and model
  [[nodiscard]] std::optional<price> remembered_price(const std::string& provider, const std::string& model) const;

  std::map<std::string, price> prices_;
  // Every call is priced twice (the reservation, the row) with the same few
  // targets: a lookup walks the provider's entries. Shared by copies, which
  // hold the same prices; prices by value, so no pointer outlives a table.
  std::shared_ptr<remembered> remembered_;
};

/// The built-in table (USD per million tokens, list prices).
const std::map<std::string, price>& default_prices();

}  // namespace sb::cluster
