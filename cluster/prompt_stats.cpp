#include "cluster/prompt_stats.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace sb::cluster {

std::int64_t nearest_rank_percentile(std::vector<std::int64_t> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  return values[rank - 1];
}

std::vector<prompt_version_stats> summarize_prompt_stats(
    const std::vector<prompt_request_outcome>& requests) {
  struct acc {
    prompt_version_stats s;
    std::vector<std::int64_t> latencies;
    double feedback_sum = 0;
  };
  std::map<int, acc> by_version;  // ascending
  for (const auto& r : requests) {
    auto& a = by_version[r.version];
    a.s.version = r.version;
    a.s.requests += 1;
    a.s.upstream_calls += r.rows;
    if (r.final_status != "ok") a.s.errors += 1;
    if (r.final_status == "cancelled") a.s.cancelled += 1;
    a.s.prompt_tokens += r.prompt_tokens;
    a.s.completion_tokens += r.completion_tokens;
    a.s.cost_estimate_usd += r.cost_estimate_usd;
    a.latencies.push_back(r.latency_ms);
    if (r.feedback) {
      a.s.feedback_count += 1;
      a.feedback_sum += *r.feedback;
    }
  }
  std::vector<prompt_version_stats> out;
  out.reserve(by_version.size());
  for (auto& [version, a] : by_version) {
    a.s.total_tokens = a.s.prompt_tokens + a.s.completion_tokens;
    double sum = 0;
    for (auto l : a.latencies) sum += static_cast<double>(l);
    a.s.mean_latency_ms = a.latencies.empty() ? 0 : sum / static_cast<double>(a.latencies.size());
    a.s.p95_latency_ms = nearest_rank_percentile(std::move(a.latencies), 95);
    if (a.s.feedback_count > 0) a.s.mean_feedback = a.feedback_sum / static_cast<double>(a.s.feedback_count);
    out.push_back(a.s);
  }
  return out;
}

}  // namespace sb::cluster
