#pragma once
// The little a store needs from a SQL database, so that one store
// implementation (one set of SQL strings) serves SQLite and PostgreSQL alike:
// parameterised statements ($1, $2, … in both), text results, explicit
// transactions. The SQL must be the portable subset both engines run
// (ON CONFLICT, RETURNING: SQLite >= 3.35).
//
// One connection, one owner thread.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "cluster/store_error.hpp"

namespace sb::cluster {

/// A bound parameter: text, or an integer bound as one (SQLite keeps its type).
using sql_value = std::variant<std::string, std::int64_t>;
/// One result row, every column as text (NULL reads as "").
using sql_row = std::vector<std::string>;

class sql_connection {
 public:
  virtual ~sql_connection() = default;

  /// Runs one statement with $n parameters; returns its rows (none for a
  /// statement without RETURNING).
  virtual store_result<std::vector<sql_row>> query(const std::string& sql,
                                                   const std::vector<sql_value>& params) = 0;
  /// Starts a write transaction that serialises writers (SQLite: BEGIN
  /// IMMEDIATE; PostgreSQL: BEGIN, rows lock as they are updated). A lost
  /// connection is re-established here, never inside a transaction.
  virtual store_status begin() = 0;
  virtual store_status commit() = 0;
  /// Best effort: after a failure the transaction is gone either way.
  virtual void rollback() = 0;
  /// Reachable? Reconnects if the connection was lost.
  virtual store_status ping() = 0;
  [[nodiscard]] virtual const char* backend() const = 0;
};

/// Parses a column read as text (an integer column, a COUNT) to an integer.
std::int64_t sql_int(const std::string& text);

}  // namespace sb::cluster
