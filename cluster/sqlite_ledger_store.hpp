#pragma once
// The embedded ledger: one SQLite file in WAL mode (readers never block the
// writer), busy_timeout so a second connection waits instead of failing.

#include <array>
#include <memory>
#include <string>

#include "cluster/ledger_store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace sb::cluster {

class sqlite_ledger_store final : public ledger_store {
 public:
  /// Opens (creates) the file at `path`; ":memory:" works for tests.
  static store_result<std::unique_ptr<sqlite_ledger_store>> open(const std::string& path);
  ~sqlite_ledger_store() override;
  sqlite_ledger_store(const sqlite_ledger_store&) = delete;
  sqlite_ledger_store& operator=(const sqlite_ledger_store&) = delete;

  store_status migrate() override;
  store_status append(const std::vector<usage_row>& rows) override;
  store_result<usage_summary> aggregate(const std::string& workspace,
                                        const std::string& period) override;
  store_result<std::vector<usage_row>> events(const std::string& workspace,
                                              const std::string& period) override;
  store_result<std::vector<prompt_request_outcome>> prompt_requests(
      const std::string& workspace, const std::string& prompt_id, const std::string& period) override;
  store_result<bool> record_feedback(const feedback_record& f) override;
  store_status record_tool_audit(const tool_audit_record& r) override;
  store_result<std::vector<tool_audit_record>> tool_audits(const tool_audit_query& q) override;
  store_status ping() override;
  [[nodiscard]] const char* backend() const override { return "sqlite"; }

 private:
  explicit sqlite_ledger_store(sqlite3* db) : db_(db) {}
  store_status exec(const std::string& sql);
  store_error last_error(const std::string& what) const;
  /// The INSERT for 2^k rows, prepared once: parsing its text costs about
  /// as much per row as the insert itself.
  sqlite3_stmt* insert_statement(std::size_t log2_rows);
  sqlite3* db_;
  std::array<sqlite3_stmt*, 7> inserts_{};  // 1, 2, 4, … 64 rows
};

}  // namespace sb::cluster
