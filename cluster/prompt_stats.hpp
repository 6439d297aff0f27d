#pragma once
// Per-version results of one prompt over a billing period (SPEC 8, GET
// /v1/prompts/{name}/stats), computed from the ledger's rows so that they
// always agree with GET /v1/usage/events.
//
// The stores return one line per client request (prompt_request_outcome,
// one SQL on both engines); summarize_prompt_stats folds them per version in
// C++, because a p95 needs every request's latency anyway and the two
// engines have no common percentile function.
//
// Definitions (also in ADR-0012, "Measuring versions"):
// - a request is a distinct request_id among the prompt's rows in the period;
//   its version is the rows' prompt_version (every attempt of a request
//   renders the same version);
// - it is an error when its final row (highest attempt) is not `ok`
//   (`error` or `cancelled`; `cancelled` is also counted on its own);
// - its latency is the SUM of its rows' latency_ms: what the caller waited
//   for upstream, failed attempts included (a version that makes a provider
//   fail costs its users that time); backoff sleeps are not in the ledger;
// - mean and p95 latency are over all its requests, errors included; p95 is
//   the nearest rank (the ceil(0.95 n)-th smallest);
// - tokens and cost are sums over every row (failed attempts too), as
//   GET /v1/usage sums them;
// - feedback is the mean score of its requests that have one, null when none.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sb::cluster {

/// One client request that used the prompt, as the stores report it.
struct prompt_request_outcome {
  int version = 0;
  std::string request_id;
  std::int64_t rows = 0;           // upstream calls
  std::int64_t latency_ms = 0;     // sum over its rows
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  double cost_estimate_usd = 0;
  std::string final_status;        // status of its highest attempt
  std::optional<double> feedback;  // the workspace's score for it, if any
};

struct prompt_version_stats {
  int version = 0;
  std::int64_t requests = 0;
  std::int64_t upstream_calls = 0;
  std::int64_t errors = 0;     // final row not ok (cancelled included)
  std::int64_t cancelled = 0;  // of which cancelled
  double mean_latency_ms = 0;
  std::int64_t p95_latency_ms = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  double cost_estimate_usd = 0;
  std::int64_t feedback_count = 0;
  std::optional<double> mean_feedback;  // nullopt when no request has a score
};

/// Folds request outcomes into one line per version, ascending by version.
std::vector<prompt_version_stats> summarize_prompt_stats(
    const std::vector<prompt_request_outcome>& requests);

/// Nearest-rank percentile (0 < p <= 100) of `values`; 0 when empty.
std::int64_t nearest_rank_percentile(std::vector<std::int64_t> values, double p);

/// A score POST /v1/feedback stores: one per (workspace, request); a later
/// score replaces the earlier one.
struct feedback_record {
  std::string workspace_id;
  std::string request_id;
  double score = 0;
  std::int64_t recorded_at_ms = 0;
};

}  // namespace sb::cluster
