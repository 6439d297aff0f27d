#pragma once
// The ledger's one schema, as numbered migrations whose SQL both SQLite and
// PostgreSQL run unchanged (portable types only: BIGINT, INTEGER, SMALLINT,
// TEXT, DOUBLE PRECISION). A store applies the ones newer than the highest
// version recorded in schema_migrations, each in its own transaction with
// its schema_migrations row, so a crash mid-way leaves a consistent version.
//
// Rule: never edit a released migration; append a new one.

#include <functional>
#include <string>
#include <vector>

#include "cluster/store_error.hpp"

namespace sb::cluster {

struct ledger_migration {
  int version = 0;  // 1, 2, …: dense and increasing
  const char* name = "";
  const char* sql = "";  // one or more statements separated by ';'
};

/// Every migration, in order.
const std::vector<ledger_migration>& ledger_migrations();

/// The table that records what has been applied.
extern const char* const schema_migrations_ddl;

/// What the migration runner needs from a connection.
struct migration_session {
  /// Runs statements that return no rows.
  std::function<store_status(const std::string& sql)> exec;
  /// The highest applied version (0 when none).
  std::function<store_result<int>()> current_version;
  /// Starts the transaction of one migration. It must serialise concurrent
  /// migrators: SQLite "BEGIN IMMEDIATE", PostgreSQL BEGIN + advisory lock.
  std::string begin_sql;
};

/// Applies every pending migration. Re-reads the version inside each
/// transaction so two nodes starting together do not apply one twice.
store_status apply_ledger_migrations(const migration_session& db);

}  // namespace sb::cluster
