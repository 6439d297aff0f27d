#include "cluster/ledger_schema.hpp"

#include "cluster/billing_period.hpp"

namespace sb::cluster {

const char* const schema_migrations_ddl =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at_ms BIGINT NOT NULL)";

const std::vector<ledger_migration>& ledger_migrations() {
  static const std::vector<ledger_migration> all = {
      {1, "usage_events",
       // ts_ms, not a SQL date: the two engines disagree on date types, and
       // periods are computed as [start_ms, end_ms) by billing_period.
       // cost_estimate_usd is an estimate: a double is enough; exact money
       // for caps lives in the quota store as integer micro-dollars.
       "CREATE TABLE usage_events ("
       " ts_ms BIGINT NOT NULL,"
       " request_id TEXT NOT NULL,"
       " user_id TEXT NOT NULL,"
       " workspace_id TEXT NOT NULL,"
       " provider TEXT NOT NULL,"
       " model TEXT NOT NULL,"
       " prompt_tokens BIGINT NOT NULL,"
       " completion_tokens BIGINT NOT NULL,"
       " latency_ms BIGINT NOT NULL,"
       " cost_estimate_usd DOUBLE PRECISION NOT NULL,"
       " status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'cancelled')),"
       " prompt_id TEXT NOT NULL DEFAULT '',"
       " prompt_version INTEGER NOT NULL DEFAULT 0,"
       " attempt INTEGER NOT NULL,"
       " estimated SMALLINT NOT NULL DEFAULT 0,"
       " PRIMARY KEY (request_id, attempt));"
       "CREATE INDEX usage_events_workspace_ts ON usage_events (workspace_id, ts_ms)"},
      {2, "conversations",
       // A conversation is (workspace_id, conversation_id): the same id in
       // two workspaces is two conversations. last_seq hands out message
       // seqs: bumping it with UPDATE … RETURNING locks the row, so writers
       // of one conversation queue on either engine and seqs never collide.
       "CREATE TABLE conversations ("
       " workspace_id TEXT NOT NULL,"
       " conversation_id TEXT NOT NULL,"
       " created_at_ms BIGINT NOT NULL,"
       " last_seq BIGINT NOT NULL DEFAULT 0,"
       " PRIMARY KEY (workspace_id, conversation_id))"},
      {3, "messages",
       // content is the whole text so far: an in-progress reply is rewritten
       // every persist_every_ms, never appended to (an upsert is idempotent).
       "CREATE TABLE messages ("
       " workspace_id TEXT NOT NULL,"
       " conversation_id TEXT NOT NULL,"
       " message_id TEXT NOT NULL,"
       " seq BIGINT NOT NULL,"
       " role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),"
       " content TEXT NOT NULL,"
       " status TEXT NOT NULL CHECK (status IN ('complete', 'partial', 'in_progress')),"
       " provider TEXT NOT NULL DEFAULT '',"
       " model TEXT NOT NULL DEFAULT '',"
       " request_id TEXT NOT NULL DEFAULT '',"
       " created_at_ms BIGINT NOT NULL,"
       " updated_at_ms BIGINT NOT NULL,"
       " PRIMARY KEY (workspace_id, conversation_id, message_id),"
       " UNIQUE (workspace_id, conversation_id, seq),"
       " FOREIGN KEY (workspace_id, conversation_id)"
       "  REFERENCES conversations (workspace_id, conversation_id))"},
      {4, "prompt_feedback",
       // POST /v1/feedback: one score per (workspace, request); a second
       // score replaces the first (ON CONFLICT DO UPDATE), so a user who
       // changes their mind is counted once. No foreign key to usage_events:
       // its key is (request_id, attempt); the write checks the request
       // exists in the workspace instead. The index serves the per-prompt
       // stats, which filter on prompt_id within a workspace and month.
       "CREATE TABLE prompt_feedback ("
       " workspace_id TEXT NOT NULL,"
       " request_id TEXT NOT NULL,"
       " score DOUBLE PRECISION NOT NULL,"
       " recorded_at_ms BIGINT NOT NULL,"
       " PRIMARY KEY (workspace_id, request_id));"
       "CREATE INDEX usage_events_prompt ON usage_events (workspace_id, prompt_id, ts_ms)"},
      {5, "tool_audit",
       // Issue 8: one row per decision on a sensitive tool call (approved,
       // refused, or an attempt on an expired one), its outcome updated
       // when the tool answered. arguments is the JSON text the model sent
       // (already valid against input_schema). Never deleted by the gateway.
       "CREATE TABLE tool_audit ("
       " confirmation_id TEXT PRIMARY KEY,"
       " workspace_id TEXT NOT NULL,"
       " request_id TEXT NOT NULL,"
       " tool TEXT NOT NULL,"
       " tool_call_id TEXT NOT NULL,"
       " arguments TEXT NOT NULL,"
       " approver TEXT NOT NULL,"
       " decision TEXT NOT NULL CHECK (decision IN ('approved', 'refused', 'expired')),"
       " requested_at_ms BIGINT NOT NULL,"
       " decided_at_ms BIGINT NOT NULL,"
       " outcome TEXT NOT NULL,"
       " outcome_at_ms BIGINT NOT NULL);"
       "CREATE INDEX tool_audit_workspace ON tool_audit (workspace_id, decided_at_ms)"},
  };
  return all;
}

store_status apply_ledger_migrations(const migration_session& db) {
  if (auto e = db.exec(schema_migrations_ddl)) return e;
  for (const auto& m : ledger_migrations()) {
    auto before = db.current_version();
    if (!before) return before.error();
    if (*before >= m.version) continue;
    if (auto e = db.exec(db.begin_sql)) return e;
    // Another node may have applied it while we waited for the lock.
    auto now = db.current_version();
    if (!now) {
      db.exec("ROLLBACK");
      return now.error();
    }
    if (*now >= m.version) {
      db.exec("ROLLBACK");
      continue;
    }
    if (auto e = db.exec(m.sql)) {
      db.exec("ROLLBACK");
      return make_store_error(e->code, "migration " + std::to_string(m.version) + " (" + m.name +
                                           "): " + e->message);
    }
    // Names are compile-time constants of ours: no quoting issue.
    if (auto e = db.exec("INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (" +
                         std::to_string(m.version) + ", '" + m.name + "', " +
                         std::to_string(now_ms()) + ")")) {
      db.exec("ROLLBACK");
      return e;
    }
    if (auto e = db.exec("COMMIT")) {
      db.exec("ROLLBACK");
      return e;
    }
  }
  return std::nullopt;
}

}  // namespace sb::cluster
