#pragma once
// The two ledger backends as test fixtures with the same shape, so one suite
// (ledger_store_test.cpp) runs against both. Each fixture owns a fresh, empty
// database: a temp SQLite file, or a new PostgreSQL schema in the database
// of SB_TEST_DATABASE_URL (tests/services.sh), dropped afterwards.

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "cluster/open_ledger_store.hpp"

namespace sb::test {

inline std::string random_suffix() {
  static std::mt19937_64 rng{std::random_device{}()};
  char buf[24];
  std::snprintf(buf, sizeof buf, "%012llx", static_cast<unsigned long long>(rng() & 0xffffffffffffULL));
  return buf;
}

struct sqlite_backend {
  static constexpr const char* name = "sqlite";
  std::string path = "/tmp/sb-ledger-test-" + random_suffix() + ".db";
  [[nodiscard]] bool available() const { return true; }
  [[nodiscard]] std::string url() const { return "sqlite://" + path; }
  ~sqlite_backend() {
    for (const char* ext : {"", "-wal", "-shm"}) std::remove((path + ext).c_str());
  }
};

struct postgres_backend {
  static constexpr const char* name = "postgresql";
  std::string base;
  std::string schema = "sb_test_" + random_suffix();

  postgres_backend() {
    const char* env = std::getenv("SB_TEST_DATABASE_URL");
    if (!env || !*env) return;
    if (!admin("CREATE SCHEMA " + schema, env)) return;
    base = env;
  }
  ~postgres_backend() {
    if (!base.empty()) admin("DROP SCHEMA " + schema + " CASCADE", base);
  }
  [[nodiscard]] bool available() const { return !base.empty(); }
  /// The same database with the fresh schema first on the search path.
  [[nodiscard]] std::string url() const {
    return base + (base.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + schema;
  }
  static bool admin(const std::string& sql, const std::string& url) {
    PGconn* c = PQconnectdb(url.c_str());
    bool ok = PQstatus(c) == CONNECTION_OK;
    PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
    if (ok) {
      PGresult* r = PQexec(c, sql.c_str());
      ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
    }
    PQfinish(c);
    return ok;
  }
};

}  // namespace sb::test
