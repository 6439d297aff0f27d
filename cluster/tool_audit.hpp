#pragma once
// Issue 8 (SPEC 9): every decision on a sensitive tool call, kept in the
// ledger database (table tool_audit, migration 5) beside the usage rows:
// who decided, when, on what, and what the tool then answered. One row per
// confirmation: written at the decision, its outcome updated once the tool
// answered (so a crash mid-call still leaves "running" on record).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::cluster {

enum class tool_decision { approved, refused, expired };

const char* to_string(tool_decision d);
std::optional<tool_decision> parse_tool_decision(std::string_view s);

/// Outcomes besides the tool error codes (tool_failed, tool_timeout,
/// invalid_tool_output, …): the tool is running, answered well, never ran.
inline constexpr const char* outcome_running = "running";
inline constexpr const char* outcome_ok = "ok";
inline constexpr const char* outcome_not_run = "not_run";

struct tool_audit_record {
  std::string confirmation_id;
  std::string workspace_id;
  std::string request_id;
  std::string tool;
  std::string tool_call_id;
  std::string arguments;  // JSON text, as validated against input_schema
  std::string approver;   // who decided (for expired: who tried to)
  tool_decision decision = tool_decision::refused;
  std::int64_t requested_at_ms = 0;  // the loop paused
  std::int64_t decided_at_ms = 0;
  std::string outcome = outcome_not_run;
  std::int64_t outcome_at_ms = 0;
};

/// GET /v1/tool-confirmations?status=approved|refused|expired: newest first.
struct tool_audit_query {
  std::string workspace_id;
  std::optional<tool_decision> decision;  // none: every decided one
  int limit = 100;
};

/// The record as the 12 text parameters of sql::record_tool_audit, and back
/// from a row of sql::tool_audits read as text: both engines share them.
std::vector<std::string> to_sql_params(const tool_audit_record& r);
tool_audit_record tool_audit_from_row(const std::vector<std::string>& row);

}  // namespace sb::cluster
