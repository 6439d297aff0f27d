#pragma once
// sql_connection over libpq, with the connection policy every PostgreSQL
// store shares (postgres_session.hpp): connect and TCP-user timeouts, a
// statement timeout, and a reconnect on the next call after the connection
// was lost — but never inside a transaction, whose statements would
// otherwise land on a fresh session outside it.

#include <memory>
#include <string>

#include "cluster/sql_connection.hpp"

struct pg_conn;

namespace sb::cluster {

class postgres_connection final : public sql_connection {
 public:
  /// `url`: any libpq URI or key=value string. Fails when the server cannot
  /// be reached now.
  static store_result<std::unique_ptr<postgres_connection>> open(const std::string& url);
  ~postgres_connection() override;
  postgres_connection(const postgres_connection&) = delete;
  postgres_connection& operator=(const postgres_connection&) = delete;

  store_result<std::vector<sql_row>> query(const std::string& sql,
                                           const std::vector<sql_value>& params) override;
  store_status begin() override;
  store_status commit() override;
  void rollback() override;
  store_status ping() override;
  [[nodiscard]] const char* backend() const override { return "postgresql"; }

 private:
  explicit postgres_connection(pg_conn* conn) : conn_(conn) {}
  store_status ensure_connected();
  store_status exec(const char* sql);
  store_error error_of(const std::string& what, const char* detail) const;

  pg_conn* conn_;
  bool in_transaction_ = false;
};

}  // namespace sb::cluster
