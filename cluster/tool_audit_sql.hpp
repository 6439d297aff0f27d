#pragma once
// The tool audit's two statements, written once for SQLite and PostgreSQL
// ($n are named parameters to SQLite, bound by name), as prompt_stats_sql.hpp.

namespace sb::cluster::sql {

/// $1 confirmation_id … $12 outcome_at_ms, in tool_audit's column order. A
/// second write of one confirmation only moves its outcome on, and only
/// within the same workspace and decision.
inline constexpr const char* record_tool_audit =
    "INSERT INTO tool_audit (confirmation_id, workspace_id, request_id, tool, tool_call_id,"
    " arguments, approver, decision, requested_at_ms, decided_at_ms, outcome, outcome_at_ms)"
    " VALUES (CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT),"
    " CAST($5 AS TEXT), CAST($6 AS TEXT), CAST($7 AS TEXT), CAST($8 AS TEXT),"
    " CAST($9 AS BIGINT), CAST($10 AS BIGINT), CAST($11 AS TEXT), CAST($12 AS BIGINT))"
    " ON CONFLICT (confirmation_id) DO UPDATE"
    " SET outcome = excluded.outcome, outcome_at_ms = excluded.outcome_at_ms"
    " WHERE tool_audit.workspace_id = excluded.workspace_id"
    " AND tool_audit.decision = excluded.decision";

/// $1 workspace, $2 decision ('' = any), $3 limit -> the columns above, newest first.
inline constexpr const char* tool_audits =
    "SELECT confirmation_id, workspace_id, request_id, tool, tool_call_id, arguments, approver,"
    " decision, requested_at_ms, decided_at_ms, outcome, outcome_at_ms FROM tool_audit"
    " WHERE workspace_id = CAST($1 AS TEXT)"
    " AND (CAST($2 AS TEXT) = '' OR decision = CAST($2 AS TEXT))"
    " ORDER BY decided_at_ms DESC, confirmation_id LIMIT CAST($3 AS BIGINT)";

}  // namespace sb::cluster::sql
