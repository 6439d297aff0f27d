#pragma once
// The cluster ledger: PostgreSQL through libpq. Every node writes its own
// batches (multi-row INSERT … ON CONFLICT DO NOTHING, one transaction); reads
// use prepared statements. A lost connection is re-established on the next
// call, so the ledger actor only has to retry.

#include <memory>
#include <string>

#include "cluster/ledger_store.hpp"

struct pg_conn;

namespace sb::cluster {

class postgres_ledger_store final : public ledger_store {
 public:
  /// `url`: postgresql://user:pass@host:port/db?… (any libpq URI or
  /// key=value string). Fails when the server cannot be reached now.
  static store_result<std::unique_ptr<postgres_ledger_store>> open(const std::string& url);
  ~postgres_ledger_store() override;
  postgres_ledger_store(const postgres_ledger_store&) = delete;
  postgres_ledger_store& operator=(const postgres_ledger_store&) = delete;

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
  [[nodiscard]] const char* backend() const override { return "postgresql"; }

 private:
  explicit postgres_ledger_store(pg_conn* conn) : conn_(conn) {}
  store_status ensure_connected();
  store_status prepare_reads();
  store_status exec(const std::string& sql);
  store_error error_of(const std::string& what, const char* detail) const;

  pg_conn* conn_;
  bool prepared_ = false;  // reads are prepared once per connection
};

}  // namespace sb::cluster
