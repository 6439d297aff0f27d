#pragma once
// DATABASE_URL -> the ledger store it names (SPEC section 1):
//   ""                      -> SQLite at ./switchboard.db (the embedded default)
//   "/path/x.db", "x.db"    -> SQLite at that path
//   "sqlite:///abs/x.db"    -> SQLite at /abs/x.db ("sqlite://rel.db" -> rel.db)
//   "postgresql://…", "postgres://…" -> PostgreSQL

#include <memory>
#include <string>

#include "cluster/ledger_store.hpp"

namespace sb::cluster {

enum class ledger_backend { sqlite, postgresql };

struct ledger_location {
  ledger_backend backend = ledger_backend::sqlite;
  std::string target;  // the SQLite path, or the PostgreSQL URL as given
};

/// Reads DATABASE_URL; a scheme other than sqlite/postgres(ql) is bad_url.
store_result<ledger_location> parse_database_url(const std::string& database_url);

/// Opens the store and brings its schema up to date. One connection: one
/// owner thread (see ledger_store).
store_result<std::shared_ptr<ledger_store>> open_ledger_store(const std::string& database_url);

}  // namespace sb::cluster
