#include "cluster/postgres_session.hpp"

#include <libpq-fe.h>

namespace sb::cluster::postgres {
namespace {

// A runaway query must not hold a store's thread: 10 s, then an error.
constexpr const char* statement_timeout_sql = "SET statement_timeout = 10000";

}  // namespace

store_result<pg_conn*> connect(const std::string& url) {
  // Defaults first: a value in the URL, processed later, wins.
  // tcp_user_timeout: a server that vanished (no RST) fails a call in 10 s
  // instead of blocking the store's thread for TCP's retransmission minutes.
  const char* keys[] = {"connect_timeout", "tcp_user_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"3", "10000", "switchboard", url.c_str(), nullptr};
  pg_conn* conn = PQconnectdbParams(keys, values, 1);
  if (!conn) return make_store_error(store_errc::unavailable, "postgresql: out of memory");
  // NOTICEs ("relation already exists, skipping") are expected, not news.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  if (PQstatus(conn) != CONNECTION_OK) {
    auto e = make_store_error(store_errc::unavailable, std::string("postgresql connect: ") + PQerrorMessage(conn));
    PQfinish(conn);
    return e;
  }
  if (auto e = exec(conn, statement_timeout_sql)) {
    PQfinish(conn);
    return *e;
  }
  return conn;
}

store_error error_of(pg_conn* conn, const std::string& what, const char* detail) {
  auto kind = PQstatus(conn) == CONNECTION_OK ? store_errc::query_failed : store_errc::unavailable;
  std::string msg = detail && *detail ? detail : PQerrorMessage(conn);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return make_store_error(kind, "postgresql " + what + ": " + msg);
}

store_status exec(pg_conn* conn, const char* sql) {
  PGresult* r = PQexec(conn, sql);
  auto s = PQresultStatus(r);
  store_status out;
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) out = error_of(conn, sql, PQresultErrorMessage(r));
  PQclear(r);
  return out;
}

store_status reconnect_if_lost(pg_conn* conn) {
  if (PQstatus(conn) == CONNECTION_OK) return std::nullopt;
  PQreset(conn);
  if (PQstatus(conn) != CONNECTION_OK) return error_of(conn, "reconnect", nullptr);
  return exec(conn, statement_timeout_sql);
}

}  // namespace sb::cluster::postgres
