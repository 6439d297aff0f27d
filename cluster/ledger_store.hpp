#pragma once
// Where usage rows live: SQLite on one node, PostgreSQL for a cluster. One
// interface, one schema (ledger_schema), so the ledger actor and the usage
// endpoints do not know which one they talk to.
//
// An instance holds one connection and is NOT thread-safe: give each thread
// (each detached actor) its own, from open_ledger_store().

#include <cstdint>
#include <string>
#include <vector>

#include "cluster/prompt_stats.hpp"
#include "cluster/store_error.hpp"
#include "cluster/tool_audit.hpp"
#include "cluster/usage_row.hpp"

namespace sb::cluster {

/// One (provider, model) line of a period's usage.
struct model_usage {
  std::string provider;
  std::string model;
  std::int64_t requests = 0;        // distinct request_id
  std::int64_t upstream_calls = 0;  // rows
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  double cost_estimate_usd = 0;
};

/// A workspace's usage over one billing period (GET /v1/usage).
struct usage_summary {
  std::string workspace;
  std::string period;               // "YYYY-MM"
  std::int64_t requests = 0;        // distinct client requests
  std::int64_t upstream_calls = 0;  // rows
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  double cost_estimate_usd = 0;
  std::vector<model_usage> by_model;  // sorted by provider, then model
};

class ledger_store {
 public:
  virtual ~ledger_store() = default;

  /// Brings the schema up to date (idempotent; safe when several nodes start
  /// at once).
  virtual store_status migrate() = 0;
  /// Writes the rows in ONE transaction: all or none. A row whose
  /// (request_id, attempt) is already stored is skipped, so a retry after an
  /// unknown outcome never doubles it.
  virtual store_status append(const std::vector<usage_row>& rows) = 0;
  /// Sums over `period` ("YYYY-MM", UTC) of `workspace`.
  virtual store_result<usage_summary> aggregate(const std::string& workspace,
                                                const std::string& period) = 0;
  /// The period's rows of `workspace`, oldest first (ties by request_id, attempt).
  virtual store_result<std::vector<usage_row>> events(const std::string& workspace,
                                                      const std::string& period) = 0;
  /// One line per client request of `workspace` that used prompt `prompt_id`
  /// in `period`, ascending by version (GET /v1/prompts/{name}/stats; fold
  /// with summarize_prompt_stats). Not pure: a store without it says so.
  virtual store_result<std::vector<prompt_request_outcome>> prompt_requests(
      const std::string& workspace, const std::string& prompt_id, const std::string& period);
  /// Records (or replaces) a score for a request of the record's workspace.
  /// false = that workspace's ledger has no such request_id (POST /v1/feedback 404).
  virtual store_result<bool> record_feedback(const feedback_record& f);
  /// Writes a sensitive tool decision; the same confirmation again only
  /// updates its outcome (the decision and approver stay as first written).
  virtual store_status record_tool_audit(const tool_audit_record& r);
  /// The workspace's decided confirmations, newest first.
  virtual store_result<std::vector<tool_audit_record>> tool_audits(const tool_audit_query& q);
  /// Reachable? (GET /readyz). Reconnects if the connection was lost.
  virtual store_status ping() = 0;
  /// "sqlite" or "postgresql", for logs.
  [[nodiscard]] virtual const char* backend() const = 0;
};

}  // namespace sb::cluster
