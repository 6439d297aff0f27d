#include "cluster/postgres_ledger_store.hpp"

#include <libpq-fe.h>

#include <cstdio>

#include "cluster/billing_period.hpp"
#include "cluster/ledger_schema.hpp"
#include "cluster/postgres_session.hpp"
#include "cluster/prompt_stats_sql.hpp"
#include "cluster/tool_audit_sql.hpp"

namespace sb::cluster {
namespace {

constexpr std::size_t columns_per_row = 15;
// 500 rows x 15 parameters stays far below PostgreSQL's 65535-parameter limit.
constexpr std::size_t rows_per_insert = 500;
// Any constant will do; it only has to be the same on every node.
constexpr const char* migration_lock_id = "5357495443480009";

/// Clears a result on every path out of a function.
struct result {
  PGresult* r = nullptr;
  ~result() { PQclear(r); }
  [[nodiscard]] bool ok() const {
    auto s = PQresultStatus(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
  }
  [[nodiscard]] std::string text(int row, int col) const { return PQgetvalue(r, row, col); }
  [[nodiscard]] std::int64_t int64(int row, int col) const {
    return std::strtoll(PQgetvalue(r, row, col), nullptr, 10);
  }
  [[nodiscard]] double real(int row, int col) const {
    return std::strtod(PQgetvalue(r, row, col), nullptr);
  }
};

std::string exact_double(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

const char* const aggregate_sql =
    "SELECT provider, model, COUNT(DISTINCT request_id), COUNT(*),"
    " COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0),"
    " COALESCE(SUM(cost_estimate_usd), 0)"
    " FROM usage_events WHERE workspace_id = $1 AND ts_ms >= $2 AND ts_ms < $3"
    " GROUP BY provider, model ORDER BY provider, model";
const char* const requests_sql =
    "SELECT COUNT(DISTINCT request_id) FROM usage_events"
    " WHERE workspace_id = $1 AND ts_ms >= $2 AND ts_ms < $3";
const char* const events_sql =
    "SELECT ts_ms, request_id, user_id, workspace_id, provider, model, prompt_tokens,"
    " completion_tokens, latency_ms, cost_estimate_usd, status, prompt_id, prompt_version,"
    " attempt, estimated FROM usage_events"
    " WHERE workspace_id = $1 AND ts_ms >= $2 AND ts_ms < $3"
    " ORDER BY ts_ms, request_id, attempt";

}  // namespace

store_result<std::unique_ptr<postgres_ledger_store>> postgres_ledger_store::open(
    const std::string& url) {
  auto conn = postgres::connect(url);
  if (!conn) return conn.error();
  return std::unique_ptr<postgres_ledger_store>(new postgres_ledger_store(*conn));
}

postgres_ledger_store::~postgres_ledger_store() { PQfinish(conn_); }

store_error postgres_ledger_store::error_of(const std::string& what, const char* detail) const {
  return postgres::error_of(conn_, what, detail);
}

store_status postgres_ledger_store::ensure_connected() {
  if (PQstatus(conn_) == CONNECTION_OK) return std::nullopt;
  prepared_ = false;  // prepared statements die with the session
  return postgres::reconnect_if_lost(conn_);
}

store_status postgres_ledger_store::exec(const std::string& sql) { return postgres::exec(conn_, sql.c_str()); }

store_status postgres_ledger_store::prepare_reads() {
  if (prepared_) return std::nullopt;
  const std::pair<const char*, const char*> all[] = {
      {"sb_aggregate", aggregate_sql}, {"sb_requests", requests_sql}, {"sb_events", events_sql}};
  for (const auto& [name, sql] : all) {
    result r{PQprepare(conn_, name, sql, 3, nullptr)};
    if (!r.ok()) return error_of("prepare", PQresultErrorMessage(r.r));
  }
  prepared_ = true;
  return std::nullopt;
}

store_status postgres_ledger_store::migrate() {
  if (auto e = ensure_connected()) return e;
  // A session lock around the whole run: nodes starting together queue here,
  // including around the CREATE TABLE IF NOT EXISTS, which races in PostgreSQL.
  if (auto e = exec(std::string("SELECT pg_advisory_lock(") + migration_lock_id + ")")) return e;
  migration_session s;
  s.exec = [this](const std::string& sql) { return exec(sql); };
  s.current_version = [this]() -> store_result<int> {
    result r{PQexec(conn_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations")};
    if (!r.ok()) return error_of("schema version", PQresultErrorMessage(r.r));
    return static_cast<int>(r.int64(0, 0));
  };
  s.begin_sql = "BEGIN";
  auto status = apply_ledger_migrations(s);
  exec(std::string("SELECT pg_advisory_unlock(") + migration_lock_id + ")");
  return status;
}

store_status postgres_ledger_store::append(const std::vector<usage_row>& rows) {
  if (rows.empty()) return std::nullopt;
  if (auto e = ensure_connected()) return e;
  if (auto e = exec("BEGIN")) return e;
  for (std::size_t first = 0; first < rows.size(); first += rows_per_insert) {
    const std::size_t n = std::min(rows_per_insert, rows.size() - first);
    std::string sql =
        "INSERT INTO usage_events (ts_ms, request_id, user_id, workspace_id, provider, model,"
        " prompt_tokens, completion_tokens, latency_ms, cost_estimate_usd, status, prompt_id,"
        " prompt_version, attempt, estimated) VALUES ";
    std::vector<std::string> text;
    text.reserve(n * columns_per_row);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& r = rows[first + i];
      sql += i ? ",(" : "(";
      for (std::size_t c = 0; c < columns_per_row; ++c) {
        sql += c ? ",$" : "$";
        sql += std::to_string(i * columns_per_row + c + 1);
      }
      sql += ")";
      text.push_back(std::to_string(r.timestamp_ms));
      text.push_back(r.request_id);
      text.push_back(r.user_id);
      text.push_back(r.workspace_id);
      text.push_back(r.provider);
      text.push_back(r.model);
      text.push_back(std::to_string(r.prompt_tokens));
      text.push_back(std::to_string(r.completion_tokens));
      text.push_back(std::to_string(r.latency_ms));
      text.push_back(exact_double(r.cost_estimate_usd));
      text.push_back(to_string(r.status));
      text.push_back(r.prompt_id);
      text.push_back(std::to_string(r.prompt_version));
      text.push_back(std::to_string(r.attempt));
      text.push_back(r.estimated ? "1" : "0");
    }
    sql += " ON CONFLICT (request_id, attempt) DO NOTHING";
    std::vector<const char*> params;
    params.reserve(text.size());
    for (const auto& t : text) params.push_back(t.c_str());
    result r{PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                          params.data(), nullptr, nullptr, 0)};
    if (!r.ok()) {
      auto e = error_of("insert usage rows", PQresultErrorMessage(r.r));
      exec("ROLLBACK");
      return e;
    }
  }
  if (auto e = exec("COMMIT")) {
    exec("ROLLBACK");
    return e;
  }
  return std::nullopt;
}

store_result<usage_summary> postgres_ledger_store::aggregate(const std::string& workspace,
                                                             const std::string& period) {
  auto b = parse_period(period);
  if (!b) return make_store_error(store_errc::bad_input, "period must be YYYY-MM: " + period);
  if (auto e = ensure_connected()) return *e;
  if (auto e = prepare_reads()) return *e;
  const std::string start = std::to_string(b->start_ms), end = std::to_string(b->end_ms);
  const char* params[] = {workspace.c_str(), start.c_str(), end.c_str()};
  usage_summary sum;
  sum.workspace = workspace;
  sum.period = period;
  {
    // One snapshot for both queries, so the totals agree with the lines.
    if (auto e = exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) return *e;
    result r{PQexecPrepared(conn_, "sb_aggregate", 3, params, nullptr, nullptr, 0)};
    if (!r.ok()) {
      auto e = error_of("aggregate", PQresultErrorMessage(r.r));
      exec("ROLLBACK");
      return e;
    }
    for (int i = 0; i < PQntuples(r.r); ++i) {
      model_usage m;
      m.provider = r.text(i, 0);
      m.model = r.text(i, 1);
      m.requests = r.int64(i, 2);
      m.upstream_calls = r.int64(i, 3);
      m.prompt_tokens = r.int64(i, 4);
      m.completion_tokens = r.int64(i, 5);
      m.total_tokens = m.prompt_tokens + m.completion_tokens;
      m.cost_estimate_usd = r.real(i, 6);
      sum.upstream_calls += m.upstream_calls;
      sum.prompt_tokens += m.prompt_tokens;
      sum.completion_tokens += m.completion_tokens;
      sum.cost_estimate_usd += m.cost_estimate_usd;
      sum.by_model.push_back(std::move(m));
    }
    result q{PQexecPrepared(conn_, "sb_requests", 3, params, nullptr, nullptr, 0)};
    if (!q.ok()) {
      auto e = error_of("aggregate requests", PQresultErrorMessage(q.r));
      exec("ROLLBACK");
      return e;
    }
    sum.requests = q.int64(0, 0);
    exec("COMMIT");
  }
  sum.total_tokens = sum.prompt_tokens + sum.completion_tokens;
  return sum;
}

store_result<std::vector<usage_row>> postgres_ledger_store::events(const std::string& workspace,
                                                                   const std::string& period) {
  auto b = parse_period(period);
  if (!b) return make_store_error(store_errc::bad_input, "period must be YYYY-MM: " + period);
  if (auto e = ensure_connected()) return *e;
  if (auto e = prepare_reads()) return *e;
  const std::string start = std::to_string(b->start_ms), end = std::to_string(b->end_ms);
  const char* params[] = {workspace.c_str(), start.c_str(), end.c_str()};
  result r{PQexecPrepared(conn_, "sb_events", 3, params, nullptr, nullptr, 0)};
  if (!r.ok()) return error_of("events", PQresultErrorMessage(r.r));
  std::vector<usage_row> out;
  out.reserve(static_cast<std::size_t>(PQntuples(r.r)));
  for (int i = 0; i < PQntuples(r.r); ++i) {
    usage_row row;
    row.timestamp_ms = r.int64(i, 0);
    row.request_id = r.text(i, 1);
    row.user_id = r.text(i, 2);
    row.workspace_id = r.text(i, 3);
    row.provider = r.text(i, 4);
    row.model = r.text(i, 5);
    row.prompt_tokens = r.int64(i, 6);
    row.completion_tokens = r.int64(i, 7);
    row.latency_ms = r.int64(i, 8);
    row.cost_estimate_usd = r.real(i, 9);
    row.status = parse_usage_status(r.text(i, 10)).value_or(usage_status::error);
    row.prompt_id = r.text(i, 11);
    row.prompt_version = static_cast<int>(r.int64(i, 12));
    row.attempt = static_cast<int>(r.int64(i, 13));
    row.estimated = r.int64(i, 14) != 0;
    out.push_back(std::move(row));
  }
  return out;
}

store_result<std::vector<prompt_request_outcome>> postgres_ledger_store::prompt_requests(
    const std::string& workspace, const std::string& prompt_id, const std::string& period) {
  auto b = parse_period(period);
  if (!b) return make_store_error(store_errc::bad_input, "period must be YYYY-MM: " + period);
  if (auto e = ensure_connected()) return *e;
  const std::string start = std::to_string(b->start_ms), end = std::to_string(b->end_ms);
  const char* params[] = {workspace.c_str(), prompt_id.c_str(), start.c_str(), end.c_str()};
  result r{PQexecParams(conn_, sql::prompt_requests, 4, nullptr, params, nullptr, nullptr, 0)};
  if (!r.ok()) return error_of("prompt stats", PQresultErrorMessage(r.r));
  std::vector<prompt_request_outcome> out;
  out.reserve(static_cast<std::size_t>(PQntuples(r.r)));
  for (int i = 0; i < PQntuples(r.r); ++i) {
    prompt_request_outcome o;
    o.version = static_cast<int>(r.int64(i, 0));
    o.request_id = r.text(i, 1);
    o.rows = r.int64(i, 2);
    o.latency_ms = r.int64(i, 3);  // SUM(bigint) is numeric: integral text
    o.prompt_tokens = r.int64(i, 4);
    o.completion_tokens = r.int64(i, 5);
    o.cost_estimate_usd = r.real(i, 6);
    o.final_status = r.text(i, 7);
    if (!PQgetisnull(r.r, i, 8)) o.feedback = r.real(i, 8);
    out.push_back(std::move(o));
  }
  return out;
}

store_result<bool> postgres_ledger_store::record_feedback(const feedback_record& f) {
  if (auto e = ensure_connected()) return *e;
  const std::string score = exact_double(f.score), at = std::to_string(f.recorded_at_ms);
  const char* params[] = {f.workspace_id.c_str(), f.request_id.c_str(), score.c_str(), at.c_str()};
  result r{PQexecParams(conn_, sql::record_feedback, 4, nullptr, params, nullptr, nullptr, 0)};
  if (!r.ok()) return error_of("feedback", PQresultErrorMessage(r.r));
  return std::strtol(PQcmdTuples(r.r), nullptr, 10) > 0;
}

store_status postgres_ledger_store::record_tool_audit(const tool_audit_record& a) {
  if (auto e = ensure_connected()) return *e;
  auto params = to_sql_params(a);
  std::vector<const char*> p;
  for (auto& v : params) p.push_back(v.c_str());
  result r{PQexecParams(conn_, sql::record_tool_audit, static_cast<int>(p.size()), nullptr, p.data(), nullptr,
                        nullptr, 0)};
  if (!r.ok()) return error_of("tool audit", PQresultErrorMessage(r.r));
  return std::nullopt;
}

store_result<std::vector<tool_audit_record>> postgres_ledger_store::tool_audits(const tool_audit_query& q) {
  if (auto e = ensure_connected()) return *e;
  const std::string decision = q.decision ? to_string(*q.decision) : "", limit = std::to_string(q.limit);
  const char* params[] = {q.workspace_id.c_str(), decision.c_str(), limit.c_str()};
  result r{PQexecParams(conn_, sql::tool_audits, 3, nullptr, params, nullptr, nullptr, 0)};
  if (!r.ok()) return error_of("tool audit list", PQresultErrorMessage(r.r));
  std::vector<tool_audit_record> out;
  for (int i = 0; i < PQntuples(r.r); ++i) {
    std::vector<std::string> row;
    for (int c = 0; c < 12; ++c) row.push_back(r.text(i, c));
    out.push_back(tool_audit_from_row(row));
  }
  return out;
}

store_status postgres_ledger_store::ping() {
  if (auto e = ensure_connected()) return e;
  auto e = exec("SELECT 1");
  // A connection that died since the last call: one reconnect, then the truth.
  if (e && PQstatus(conn_) != CONNECTION_OK) {
    if (auto r = ensure_connected()) return r;
    return exec("SELECT 1");
  }
  return e;
}

}  // namespace sb::cluster
