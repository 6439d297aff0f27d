#include "cluster/tool_audit.hpp"

#include <cstdlib>

namespace sb::cluster {

const char* to_string(tool_decision d) {
  switch (d) {
    case tool_decision::approved: return "approved";
    case tool_decision::refused: return "refused";
    case tool_decision::expired: return "expired";
  }
  return "refused";
}

std::optional<tool_decision> parse_tool_decision(std::string_view s) {
  if (s == "approved") return tool_decision::approved;
  if (s == "refused") return tool_decision::refused;
  if (s == "expired") return tool_decision::expired;
  return std::nullopt;
}

std::vector<std::string> to_sql_params(const tool_audit_record& r) {
  return {r.confirmation_id, r.workspace_id, r.request_id,  r.tool,
          r.tool_call_id,    r.arguments,    r.approver,    to_string(r.decision),
          std::to_string(r.requested_at_ms), std::to_string(r.decided_at_ms), r.outcome,
          std::to_string(r.outcome_at_ms)};
}

tool_audit_record tool_audit_from_row(const std::vector<std::string>& row) {
  tool_audit_record r;
  if (row.size() < 12) return r;
  auto int64 = [](const std::string& s) { return std::strtoll(s.c_str(), nullptr, 10); };
  r.confirmation_id = row[0];
  r.workspace_id = row[1];
  r.request_id = row[2];
  r.tool = row[3];
  r.tool_call_id = row[4];
  r.arguments = row[5];
  r.approver = row[6];
  r.decision = parse_tool_decision(row[7]).value_or(tool_decision::refused);
  r.requested_at_ms = int64(row[8]);
  r.decided_at_ms = int64(row[9]);
  r.outcome = row[10];
  r.outcome_at_ms = int64(row[11]);
  return r;
}

}  // namespace sb::cluster
