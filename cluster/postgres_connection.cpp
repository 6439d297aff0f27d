#include "cluster/postgres_connection.hpp"

#include <libpq-fe.h>

namespace sb::cluster {
namespace {

constexpr const char* statement_timeout_sql = "SET statement_timeout = 10000";

/// Clears a result on every path out of a function.
struct pg_result {
  PGresult* r = nullptr;
  ~pg_result() { PQclear(r); }
  [[nodiscard]] bool ok() const {
    auto s = PQresultStatus(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
  }
};

}  // namespace

store_result<std::unique_ptr<postgres_connection>> postgres_connection::open(
    const std::string& url) {
  // Defaults first: a value in the URL, processed later, wins. The same
  // bounds as the ledger's connection, for the same reasons.
  const char* keys[] = {"connect_timeout", "tcp_user_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"3", "10000", "switchboard", url.c_str(), nullptr};
  pg_conn* conn = PQconnectdbParams(keys, values, 1);
  if (!conn) return make_store_error(store_errc::unavailable, "postgresql: out of memory");
  std::unique_ptr<postgres_connection> c(new postgres_connection(conn));
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  if (PQstatus(conn) != CONNECTION_OK)
    return make_store_error(store_errc::unavailable,
                            std::string("postgresql connect: ") + PQerrorMessage(conn));
  if (auto e = c->exec(statement_timeout_sql)) return *e;
  return c;
}

postgres_connection::~postgres_connection() { PQfinish(conn_); }

store_error postgres_connection::error_of(const std::string& what, const char* detail) const {
  auto kind = PQstatus(conn_) == CONNECTION_OK ? store_errc::query_failed : store_errc::unavailable;
  std::string msg = detail && *detail ? detail : PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return make_store_error(kind, "postgresql " + what + ": " + msg);
}

store_status postgres_connection::ensure_connected() {
  if (PQstatus(conn_) == CONNECTION_OK) return std::nullopt;
  PQreset(conn_);  // blocking, bounded by connect_timeout
  if (PQstatus(conn_) != CONNECTION_OK) return error_of("reconnect", nullptr);
  return exec(statement_timeout_sql);
}

store_status postgres_connection::exec(const char* sql) {
  pg_result r{PQexec(conn_, sql)};
  if (!r.ok()) return error_of(sql, PQresultErrorMessage(r.r));
  return std::nullopt;
}

store_result<std::vector<sql_row>> postgres_connection::query(
    const std::string& sql, const std::vector<sql_value>& params) {
  if (!in_transaction_)
    if (auto e = ensure_connected()) return *e;
  std::vector<std::string> text;
  text.reserve(params.size());
  for (const auto& p : params) {
    if (auto* s = std::get_if<std::string>(&p)) text.push_back(*s);
    else text.push_back(std::to_string(std::get<std::int64_t>(p)));
  }
  std::vector<const char*> values;
  values.reserve(text.size());
  for (const auto& t : text) values.push_back(t.c_str());
  pg_result r{PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                           values.data(), nullptr, nullptr, 0)};
  if (!r.ok()) return error_of("query", PQresultErrorMessage(r.r));
  std::vector<sql_row> rows;
  const int n = PQntuples(r.r), columns = PQnfields(r.r);
  rows.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    sql_row row;
    row.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c)
      row.emplace_back(PQgetvalue(r.r, i, c), static_cast<std::size_t>(PQgetlength(r.r, i, c)));
    rows.push_back(std::move(row));
  }
  return rows;
}

store_status postgres_connection::begin() {
  if (auto e = ensure_connected()) return e;
  if (auto e = exec("BEGIN")) return e;
  in_transaction_ = true;
  return std::nullopt;
}

store_status postgres_connection::commit() {
  in_transaction_ = false;
  return exec("COMMIT");
}

void postgres_connection::rollback() {
  if (!in_transaction_) return;
  in_transaction_ = false;
  if (PQstatus(conn_) == CONNECTION_OK) exec("ROLLBACK");
}

store_status postgres_connection::ping() {
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
