#include "cluster/open_conversation_store.hpp"

#include "cluster/open_ledger_store.hpp"
#include "cluster/postgres_connection.hpp"
#include "cluster/sql_conversation_store.hpp"
#include "cluster/sqlite_connection.hpp"

namespace sb::cluster {

store_result<std::shared_ptr<conversation_store>> open_conversation_store(
    const std::string& database_url) {
  auto where = parse_database_url(database_url);
  if (!where) return where.error();
  {
    // Opening the ledger migrates it (with the PostgreSQL advisory lock and
    // the per-migration transactions); the connection is dropped at once.
    auto migrated = open_ledger_store(database_url);
    if (!migrated) return migrated.error();
  }
  std::unique_ptr<sql_connection> db;
  if (where->backend == ledger_backend::postgresql) {
    auto pg = postgres_connection::open(where->target);
    if (!pg) return pg.error();
    db = std::move(*pg);
  } else {
    auto lite = sqlite_connection::open(where->target);
    if (!lite) return lite.error();
    db = std::move(*lite);
  }
  return std::shared_ptr<conversation_store>(std::make_shared<sql_conversation_store>(std::move(db)));
}

}  // namespace sb::cluster
