#include "cluster/sqlite_connection.hpp"

#include <sqlite3.h>

namespace sb::cluster {
namespace {

constexpr int busy_timeout_ms = 5000;

/// Leaves a cached statement ready for its next use on every path out.
struct reset_on_exit {
  sqlite3_stmt* s;
  ~reset_on_exit() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

}  // namespace

store_result<std::unique_ptr<sqlite_connection>> sqlite_connection::open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_store_error(store_errc::unavailable, "sqlite open " + path + ": " + msg);
  }
  std::unique_ptr<sqlite_connection> conn(new sqlite_connection(db));
  sqlite3_busy_timeout(db, busy_timeout_ms);
  // The same file as the ledger: the same journal settings (see sqlite_ledger_store).
  if (auto e = conn->exec("PRAGMA journal_mode=WAL")) return *e;
  if (auto e = conn->exec("PRAGMA synchronous=NORMAL")) return *e;
  return conn;
}

sqlite_connection::~sqlite_connection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

store_error sqlite_connection::last_error(const std::string& what) const {
  int code = sqlite3_errcode(db_);
  auto kind = (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_IOERR ||
               code == SQLITE_CANTOPEN || code == SQLITE_FULL)
                  ? store_errc::unavailable
                  : store_errc::query_failed;
  return make_store_error(kind, "sqlite " + what + ": " + sqlite3_errmsg(db_));
}

store_status sqlite_connection::exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return last_error(sql);
  return std::nullopt;
}

store_result<sqlite3_stmt*> sqlite_connection::prepared(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK)
    return last_error("prepare");
  statements_.emplace(sql, stmt);
  return stmt;
}

store_result<std::vector<sql_row>> sqlite_connection::query(const std::string& sql,
                                                            const std::vector<sql_value>& params) {
  auto stmt = prepared(sql);
  if (!stmt) return stmt.error();
  sqlite3_stmt* s = *stmt;
  reset_on_exit guard{s};
  // "$1" is a named parameter to SQLite: bind by name, so the SQL text is
  // the PostgreSQL one, reused placeholders included.
  for (std::size_t i = 0; i < params.size(); ++i) {
    int at = sqlite3_bind_parameter_index(s, ("$" + std::to_string(i + 1)).c_str());
    if (at == 0) continue;
    if (auto* text = std::get_if<std::string>(&params[i]))
      sqlite3_bind_text(s, at, text->data(), static_cast<int>(text->size()), SQLITE_TRANSIENT);
    else
      sqlite3_bind_int64(s, at, std::get<std::int64_t>(params[i]));
  }
  std::vector<sql_row> rows;
  const int columns = sqlite3_column_count(s);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    sql_row row;
    row.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
      row.emplace_back(p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, c)))
                         : std::string());
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return last_error("query");
  return rows;
}

// IMMEDIATE takes the write lock now: two writers queue (busy_timeout)
// instead of both reading a counter and one failing at COMMIT.
store_status sqlite_connection::begin() { return exec("BEGIN IMMEDIATE"); }

store_status sqlite_connection::commit() { return exec("COMMIT"); }

void sqlite_connection::rollback() {
  if (!sqlite3_get_autocommit(db_)) exec("ROLLBACK");
}

store_status sqlite_connection::ping() { return exec("SELECT 1"); }

}  // namespace sb::cluster
