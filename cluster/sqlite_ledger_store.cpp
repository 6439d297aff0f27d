#include "cluster/sqlite_ledger_store.hpp"

#include <algorithm>

#include <sqlite3.h>

#include "cluster/billing_period.hpp"
#include "cluster/ledger_schema.hpp"
#include "cluster/prompt_stats_sql.hpp"
#include "cluster/tool_audit_sql.hpp"

namespace sb::cluster {
namespace {

constexpr int busy_timeout_ms = 5000;

/// Finalizes a statement on every path out of a function.
struct statement {
  sqlite3_stmt* s = nullptr;
  ~statement() { sqlite3_finalize(s); }
};

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

/// The shared SQL names its parameters $1, $2, …: bind by name.
int param(sqlite3_stmt* s, const char* name) { return sqlite3_bind_parameter_index(s, name); }

std::string column_text(sqlite3_stmt* s, int i) {
  auto p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
}

}  // namespace

store_result<std::unique_ptr<sqlite_ledger_store>> sqlite_ledger_store::open(
    const std::string& path) {
  sqlite3* db = nullptr;
  // NOMUTEX: a store is used by one thread at a time (the ledger actor's,
  // after the start's migration), so SQLite's per-call locking (~20 mutex
  // round trips per row) buys nothing. Readers open connections of their own.
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_store_error(store_errc::unavailable, "sqlite open " + path + ": " + msg);
  }
  std::unique_ptr<sqlite_ledger_store> store(new sqlite_ledger_store(db));
  sqlite3_busy_timeout(db, busy_timeout_ms);
  // WAL: the usage endpoints read while the ledger actor writes. NORMAL sync
  // is durable across a process crash (the WAL is on disk); only an OS crash
  // can lose the last transactions.
  if (auto e = store->exec("PRAGMA journal_mode=WAL")) return *e;
  if (auto e = store->exec("PRAGMA synchronous=NORMAL")) return *e;
  return store;
}

sqlite_ledger_store::~sqlite_ledger_store() {
  for (auto* s : inserts_) sqlite3_finalize(s);
  sqlite3_close_v2(db_);
}

store_error sqlite_ledger_store::last_error(const std::string& what) const {
  int code = sqlite3_errcode(db_);
  auto kind = (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_IOERR ||
               code == SQLITE_CANTOPEN || code == SQLITE_FULL)
                  ? store_errc::unavailable
                  : store_errc::query_failed;
  return make_store_error(kind, what + ": " + sqlite3_errmsg(db_));
}

store_status sqlite_ledger_store::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    auto e = last_error("sqlite");
    sqlite3_free(err);
    return e;
  }
  return std::nullopt;
}

store_status sqlite_ledger_store::migrate() {
  migration_session s;
  s.exec = [this](const std::string& sql) { return exec(sql); };
  s.current_version = [this]() -> store_result<int> {
    statement st;
    if (sqlite3_prepare_v2(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", -1,
                           &st.s, nullptr) != SQLITE_OK)
      return last_error("schema version");
    if (sqlite3_step(st.s) != SQLITE_ROW) return last_error("schema version");
    return sqlite3_column_int(st.s, 0);
  };
  s.begin_sql = "BEGIN IMMEDIATE";  // takes the write lock now: migrators queue
  return apply_ledger_migrations(s);
}

namespace {

constexpr int usage_columns = 15;
// Up to 64 rows per INSERT (sqlite_ledger_store::inserts_): one statement
// step for many rows costs about half as much per row as a step per row
// (measured with the ledger's schema), and 64 x 15 parameters stay far below
// SQLite's limit.

std::string insert_sql(std::size_t rows) {
  std::string sql =
      "INSERT INTO usage_events (ts_ms, request_id, user_id, workspace_id, provider, model,"
      " prompt_tokens, completion_tokens, latency_ms, cost_estimate_usd, status, prompt_id,"
      " prompt_version, attempt, estimated) VALUES ";
  for (std::size_t i = 0; i < rows; ++i) {
    if (i > 0) sql += ',';
    sql += "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  }
  // A retried batch may hold rows already written: each is written once.
  sql += " ON CONFLICT (request_id, attempt) DO NOTHING";
  return sql;
}

/// Binds `r` to parameters first..first+14. The strings live until the step
/// (the batch outlives it): no copy.
void bind_row(sqlite3_stmt* s, int first, const usage_row& r) {
  auto text = [&](int i, const std::string& v) {
    sqlite3_bind_text(s, first + i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  };
  sqlite3_bind_int64(s, first + 0, r.timestamp_ms);
  text(1, r.request_id);
  text(2, r.user_id);
  text(3, r.workspace_id);
  text(4, r.provider);
  text(5, r.model);
  sqlite3_bind_int64(s, first + 6, r.prompt_tokens);
  sqlite3_bind_int64(s, first + 7, r.completion_tokens);
  sqlite3_bind_int64(s, first + 8, r.latency_ms);
  sqlite3_bind_double(s, first + 9, r.cost_estimate_usd);
  sqlite3_bind_text(s, first + 10, to_string(r.status), -1, SQLITE_STATIC);
  text(11, r.prompt_id);
  sqlite3_bind_int(s, first + 12, r.prompt_version);
  sqlite3_bind_int(s, first + 13, r.attempt);
  sqlite3_bind_int(s, first + 14, r.estimated ? 1 : 0);
}

}  // namespace

sqlite3_stmt* sqlite_ledger_store::insert_statement(std::size_t log2_rows) {
  auto& s = inserts_[log2_rows];
  if (!s && sqlite3_prepare_v2(db_, insert_sql(std::size_t{1} << log2_rows).c_str(), -1, &s, nullptr) != SQLITE_OK) {
    sqlite3_finalize(s);
    s = nullptr;
  }
  return s;
}

store_status sqlite_ledger_store::append(const std::vector<usage_row>& rows) {
  if (rows.empty()) return std::nullopt;
  if (auto e = exec("BEGIN IMMEDIATE")) return e;
  auto fail = [&](const char* what) {
    auto e = last_error(what);
    exec("ROLLBACK");
    return e;
  };
  // Full statements of 64 rows, then the remainder by its binary digits
  // (32, 16, … 1): at most seven statements, each prepared once per store.
  std::size_t i = 0;
  for (std::size_t k = inserts_.size(); k-- > 0;) {
    auto n = std::size_t{1} << k;
    while (rows.size() - i >= n) {
      auto* st = insert_statement(k);
      if (!st) return fail("prepare insert");
      for (std::size_t r = 0; r < n; ++r) bind_row(st, static_cast<int>(r) * usage_columns + 1, rows[i + r]);
      auto rc = sqlite3_step(st);
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);  // the rows' strings are bound without a copy
      if (rc != SQLITE_DONE) return fail("insert usage rows");
      i += n;
    }
  }
  if (auto e = exec("COMMIT")) {
    exec("ROLLBACK");
    return e;
  }
  return std::nullopt;
}

store_result<usage_summary> sqlite_ledger_store::aggregate(const std::string& workspace,
                                                           const std::string& period) {
  auto b = parse_period(period);
  if (!b) return make_store_error(store_errc::bad_input, "period must be YYYY-MM: " + period);
  usage_summary sum;
  sum.workspace = workspace;
  sum.period = period;
  statement st;
  const char* sql =
      "SELECT provider, model, COUNT(DISTINCT request_id), COUNT(*),"
      " COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0),"
      " COALESCE(SUM(cost_estimate_usd), 0)"
      " FROM usage_events WHERE workspace_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3"
      " GROUP BY provider, model ORDER BY provider, model";
  if (sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) != SQLITE_OK)
    return last_error("aggregate");
  bind_text(st.s, 1, workspace);
  sqlite3_bind_int64(st.s, 2, b->start_ms);
  sqlite3_bind_int64(st.s, 3, b->end_ms);
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    model_usage m;
    m.provider = column_text(st.s, 0);
    m.model = column_text(st.s, 1);
    m.requests = sqlite3_column_int64(st.s, 2);
    m.upstream_calls = sqlite3_column_int64(st.s, 3);
    m.prompt_tokens = sqlite3_column_int64(st.s, 4);
    m.completion_tokens = sqlite3_column_int64(st.s, 5);
    m.total_tokens = m.prompt_tokens + m.completion_tokens;
    m.cost_estimate_usd = sqlite3_column_double(st.s, 6);
    sum.upstream_calls += m.upstream_calls;
    sum.prompt_tokens += m.prompt_tokens;
    sum.completion_tokens += m.completion_tokens;
    sum.cost_estimate_usd += m.cost_estimate_usd;
    sum.by_model.push_back(std::move(m));
  }
  if (rc != SQLITE_DONE) return last_error("aggregate");
  sum.total_tokens = sum.prompt_tokens + sum.completion_tokens;
  // One request may have tried several models: count it once overall.
  statement rq;
  if (sqlite3_prepare_v2(db_,
                         "SELECT COUNT(DISTINCT request_id) FROM usage_events"
                         " WHERE workspace_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3",
                         -1, &rq.s, nullptr) != SQLITE_OK)
    return last_error("aggregate requests");
  bind_text(rq.s, 1, workspace);
  sqlite3_bind_int64(rq.s, 2, b->start_ms);
  sqlite3_bind_int64(rq.s, 3, b->end_ms);
  if (sqlite3_step(rq.s) != SQLITE_ROW) return last_error("aggregate requests");
  sum.requests = sqlite3_column_int64(rq.s, 0);
  return sum;
}

store_result<std::vector<usage_row>> sqlite_ledger_store::events(const std::string& workspace,
                                                                 const std::string& period) {
  auto b = parse_period(period);
  if (!b) return make_store_error(store_errc::bad_input, "period must be YYYY-MM: " + period);
  statement st;
  const char* sql =
      "SELECT ts_ms, request_id, user_id, workspace_id, provider, model, prompt_tokens,"
      " completion_tokens, latency_ms, cost_estimate_usd, status, prompt_id, prompt_version,"
      " attempt, estimated FROM usage_events"
      " WHERE workspace_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3"
      " ORDER BY ts_ms, request_id, attempt";
  if (sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) != SQLITE_OK) return last_error("events");
  bind_text(st.s, 1, workspace);
  sqlite3_bind_int64(st.s, 2, b->start_ms);
  sqlite3_bind_int64(st.s, 3, b->end_ms);
  std::vector<usage_row> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    usage_row r;
    r.timestamp_ms = sqlite3_column_int64(st.s, 0);
    r.request_id = column_text(st.s, 1);
    r.user_id = column_text(st.s, 2);
    r.workspace_id = column_text(st.s, 3);
    r.provider = column_text(st.s, 4);
    r.model = column_text(st.s, 5);
    r.prompt_tokens = sqlite3_column_int64(st.s, 6);
    r.completion_tokens = sqlite3_column_int64(st.s, 7);
    r.latency_ms = sqlite3_column_int64(st.s, 8);
    r.cost_estimate_usd = sqlite3_column_double(st.s, 9);
    r.status = parse_usage_status(column_text(st.s, 10)).value_or(usage_status::error);
    r.prompt_id = column_text(st.s, 11);
    r.prompt_version = sqlite3_column_int(st.s, 12);
    r.attempt = sqlite3_column_int(st.s, 13);
    r.estimated = sqlite3_column_int(st.s, 14) != 0;
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return last_error("events");
  return out;
}

store_result<std::vector<prompt_request_outcome>> sqlite_ledger_store::prompt_requests(
    const std::string& workspace, const std::string& prompt_id, const std::string& period) {
  auto b = parse_period(period);
  if (!b) return make_store_error(store_errc::bad_input, "period must be YYYY-MM: " + period);
  statement st;
  if (sqlite3_prepare_v2(db_, sql::prompt_requests, -1, &st.s, nullptr) != SQLITE_OK)
    return last_error("prompt stats");
  bind_text(st.s, param(st.s, "$1"), workspace);
  bind_text(st.s, param(st.s, "$2"), prompt_id);
  sqlite3_bind_int64(st.s, param(st.s, "$3"), b->start_ms);
  sqlite3_bind_int64(st.s, param(st.s, "$4"), b->end_ms);
  std::vector<prompt_request_outcome> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    prompt_request_outcome o;
    o.version = sqlite3_column_int(st.s, 0);
    o.request_id = column_text(st.s, 1);
    o.rows = sqlite3_column_int64(st.s, 2);
    o.latency_ms = sqlite3_column_int64(st.s, 3);
    o.prompt_tokens = sqlite3_column_int64(st.s, 4);
    o.completion_tokens = sqlite3_column_int64(st.s, 5);
    o.cost_estimate_usd = sqlite3_column_double(st.s, 6);
    o.final_status = column_text(st.s, 7);
    if (sqlite3_column_type(st.s, 8) != SQLITE_NULL) o.feedback = sqlite3_column_double(st.s, 8);
    out.push_back(std::move(o));
  }
  if (rc != SQLITE_DONE) return last_error("prompt stats");
  return out;
}

store_result<bool> sqlite_ledger_store::record_feedback(const feedback_record& f) {
  statement st;
  if (sqlite3_prepare_v2(db_, sql::record_feedback, -1, &st.s, nullptr) != SQLITE_OK)
    return last_error("feedback");
  bind_text(st.s, param(st.s, "$1"), f.workspace_id);
  bind_text(st.s, param(st.s, "$2"), f.request_id);
  sqlite3_bind_double(st.s, param(st.s, "$3"), f.score);
  sqlite3_bind_int64(st.s, param(st.s, "$4"), f.recorded_at_ms);
  if (sqlite3_step(st.s) != SQLITE_DONE) return last_error("feedback");
  return sqlite3_changes(db_) > 0;
}

store_status sqlite_ledger_store::record_tool_audit(const tool_audit_record& r) {
  statement st;
  if (sqlite3_prepare_v2(db_, sql::record_tool_audit, -1, &st.s, nullptr) != SQLITE_OK)
    return last_error("tool audit");
  auto params = to_sql_params(r);
  for (std::size_t i = 0; i < params.size(); ++i)
    bind_text(st.s, param(st.s, ("$" + std::to_string(i + 1)).c_str()), params[i]);
  if (sqlite3_step(st.s) != SQLITE_DONE) return last_error("tool audit");
  return std::nullopt;
}

store_result<std::vector<tool_audit_record>> sqlite_ledger_store::tool_audits(const tool_audit_query& q) {
  statement st;
  if (sqlite3_prepare_v2(db_, sql::tool_audits, -1, &st.s, nullptr) != SQLITE_OK)
    return last_error("tool audit list");
  bind_text(st.s, param(st.s, "$1"), q.workspace_id);
  bind_text(st.s, param(st.s, "$2"), q.decision ? to_string(*q.decision) : "");
  sqlite3_bind_int64(st.s, param(st.s, "$3"), q.limit);
  std::vector<tool_audit_record> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < 12; ++c) row.push_back(column_text(st.s, c));
    out.push_back(tool_audit_from_row(row));
  }
  if (rc != SQLITE_DONE) return last_error("tool audit list");
  return out;
}

store_status sqlite_ledger_store::ping() { return exec("SELECT 1"); }

}  // namespace sb::cluster
