#include "cluster/local_quota_store.hpp"

#include <algorithm>

namespace sb::cluster {

store_result<quota_amount*> local_quota_store::counter(const key& k) {
  auto i = counters_.find(k);
  if (i != counters_.end()) return &i->second;
  quota_amount start;
  if (seed_) {
    auto s = seed_(k.first, k.second);
    if (!s) return s.error();
    start = *s;
  }
  // A new period began: earlier periods' counters are done with. A late
  // settle for one finds no counter and is dropped; the ledger has its row.
  for (auto j = counters_.begin(); j != counters_.end();)
    j = j->first.first == k.first && j->first.second < k.second ? counters_.erase(j) : std::next(j);
  return &counters_.emplace(k, start).first->second;
}

store_result<quota_decision> local_quota_store::reserve(const std::string& workspace,
                                                        const std::string& period,
                                                        quota_amount amount,
                                                        const quota_caps& caps) {
  std::lock_guard<std::mutex> lock(mu_);
  auto c = counter({workspace, period});
  if (!c) return c.error();
  quota_amount& used = **c;
  quota_decision d;
  if (caps.tokens && used.tokens + amount.tokens > *caps.tokens)
    d.refused_by = quota_limit::tokens;
  else if (caps.cost_micros && used.cost_micros + amount.cost_micros > *caps.cost_micros)
    d.refused_by = quota_limit::cost;
  d.admitted = d.refused_by == quota_limit::none;
  if (d.admitted) {
    used.tokens += amount.tokens;
    used.cost_micros += amount.cost_micros;
    d.reservation = quota_reservation{workspace, period, amount, "local", ""};
  }
  d.used = used;
  fill_remaining(d, caps);
  return d;
}

store_status local_quota_store::settle(const quota_reservation& r, quota_amount actual) {
  std::lock_guard<std::mutex> lock(mu_);
  auto i = counters_.find({r.workspace, r.period});
  if (i == counters_.end()) return std::nullopt;  // period pruned: nothing to correct
  auto& used = i->second;
  used.tokens = std::max<std::int64_t>(0, used.tokens + actual.tokens - r.amount.tokens);
  used.cost_micros =
      std::max<std::int64_t>(0, used.cost_micros + actual.cost_micros - r.amount.cost_micros);
  return std::nullopt;
}

store_result<quota_amount> local_quota_store::usage(const std::string& workspace,
                                                    const std::string& period) {
  std::lock_guard<std::mutex> lock(mu_);
  auto c = counter({workspace, period});
  if (!c) return c.error();
  return **c;
}

}  // namespace sb::cluster
