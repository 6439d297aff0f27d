#include "cluster/ledger_store.hpp"

namespace sb::cluster {

// Defaults for stores that predate prompt stats (test doubles): an error
// value, not a crash, so the endpoint answers 503 and nothing else breaks.
store_result<std::vector<prompt_request_outcome>> ledger_store::prompt_requests(
    const std::string&, const std::string&, const std::string&) {
  return make_store_error(store_errc::query_failed,
                          std::string(backend()) + " store has no prompt stats");
}

store_result<bool> ledger_store::record_feedback(const feedback_record&) {
  return make_store_error(store_errc::query_failed,
                          std::string(backend()) + " store has no feedback");
}

store_status ledger_store::record_tool_audit(const tool_audit_record&) {
  return make_store_error(store_errc::query_failed, std::string(backend()) + " store has no tool audit");
}

store_result<std::vector<tool_audit_record>> ledger_store::tool_audits(const tool_audit_query&) {
  return make_store_error(store_errc::query_failed, std::string(backend()) + " store has no tool audit");
}

}  // namespace sb::cluster
