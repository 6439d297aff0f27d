#pragma once
// The two statements behind prompt stats and feedback, written once for both
// engines: PostgreSQL's $n parameters are named parameters to SQLite, which
// the SQLite store binds by name (sqlite3_bind_parameter_index), so the text
// cannot drift between backends. CASTs give PostgreSQL the parameter types
// it cannot infer inside INSERT … SELECT; SQLite maps them to its affinities.

namespace sb::cluster::sql {

/// $1 workspace, $2 prompt id, $3 start_ms, $4 end_ms -> one line per request:
/// version, request_id, rows, latency sum, prompt tokens, completion tokens,
/// cost, final status (highest attempt), feedback score (NULL when none).
inline constexpr const char* prompt_requests =
    "SELECT e.prompt_version, e.request_id, COUNT(*), SUM(e.latency_ms),"
    " SUM(e.prompt_tokens), SUM(e.completion_tokens), SUM(e.cost_estimate_usd),"
    " (SELECT l.status FROM usage_events l WHERE l.request_id = e.request_id"
    "   ORDER BY l.attempt DESC LIMIT 1),"
    " (SELECT f.score FROM prompt_feedback f"
    "   WHERE f.workspace_id = e.workspace_id AND f.request_id = e.request_id)"
    " FROM usage_events e"
    " WHERE e.workspace_id = $1 AND e.prompt_id = $2 AND e.ts_ms >= $3 AND e.ts_ms < $4"
    " GROUP BY e.workspace_id, e.prompt_version, e.request_id"
    " ORDER BY e.prompt_version, e.request_id";

/// $1 workspace, $2 request_id, $3 score, $4 now_ms. Inserts or replaces the
/// score only when the workspace's ledger has the request: 1 row affected =
/// recorded, 0 = no such request in that workspace (a 404). One statement,
/// so there is no window between the check and the write.
inline constexpr const char* record_feedback =
    "INSERT INTO prompt_feedback (workspace_id, request_id, score, recorded_at_ms)"
    " SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS DOUBLE PRECISION), CAST($4 AS BIGINT)"
    " WHERE EXISTS (SELECT 1 FROM usage_events u"
    "   WHERE u.workspace_id = $1 AND u.request_id = $2)"
    " ON CONFLICT (workspace_id, request_id)"
    " DO UPDATE SET score = excluded.score, recorded_at_ms = excluded.recorded_at_ms";

}  // namespace sb::cluster::sql
