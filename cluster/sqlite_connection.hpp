#pragma once
// sql_connection over one SQLite file: WAL and busy_timeout like the ledger
// (sqlite_ledger_store), prepared statements cached per SQL text.

#include <map>
#include <memory>
#include <string>

#include "cluster/sql_connection.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace sb::cluster {

class sqlite_connection final : public sql_connection {
 public:
  static store_result<std::unique_ptr<sqlite_connection>> open(const std::string& path);
  ~sqlite_connection() override;
  sqlite_connection(const sqlite_connection&) = delete;
  sqlite_connection& operator=(const sqlite_connection&) = delete;

  store_result<std::vector<sql_row>> query(const std::string& sql,
                                           const std::vector<sql_value>& params) override;
  store_status begin() override;
  store_status commit() override;
  void rollback() override;
  store_status ping() override;
  [[nodiscard]] const char* backend() const override { return "sqlite"; }

 private:
  explicit sqlite_connection(sqlite3* db) : db_(db) {}
  store_status exec(const char* sql);
  store_error last_error(const std::string& what) const;
  store_result<sqlite3_stmt*> prepared(const std::string& sql);

  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace sb::cluster
