#include "cluster/quota_store.hpp"

#include <algorithm>

namespace sb::cluster {

void fill_remaining(quota_decision& d, const quota_caps& caps) {
  if (caps.tokens) d.remaining_tokens = std::max<std::int64_t>(0, *caps.tokens - d.used.tokens);
  if (caps.cost_micros)
    d.remaining_cost_micros = std::max<std::int64_t>(0, *caps.cost_micros - d.used.cost_micros);
}

}  // namespace sb::cluster
