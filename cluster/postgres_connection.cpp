#include "cluster/postgres_connection.hpp"

#include <libpq-fe.h>

#include "cluster/postgres_session.hpp"

namespace sb::cluster {
namespace {

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
  auto conn = postgres::connect(url);
  if (!conn) return conn.error();
  return std::unique_ptr<postgres_connection>(new postgres_connection(*conn));
}

postgres_connection::~postgres_connection() { PQfinish(conn_); }

store_error postgres_connection::error_of(const std::string& what, const char* detail) const {
  return postgres::error_of(conn_, what, detail);
}

store_status postgres_connection::ensure_connected() { return postgres::reconnect_if_lost(conn_); }

store_status postgres_connection::exec(const char* sql) { return postgres::exec(conn_, sql); }

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
