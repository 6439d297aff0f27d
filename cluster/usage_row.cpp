#include "cluster/usage_row.hpp"

#include <tuple>

namespace sb::cluster {

const char* to_string(usage_status s) {
  switch (s) {
    case usage_status::ok: return "ok";
    case usage_status::error: return "error";
    case usage_status::cancelled: return "cancelled";
  }
  return "error";
}

std::optional<usage_status> parse_usage_status(const std::string& s) {
  if (s == "ok") return usage_status::ok;
  if (s == "error") return usage_status::error;
  if (s == "cancelled") return usage_status::cancelled;
  return std::nullopt;
}

bool usage_row::operator==(const usage_row& o) const {
  auto tie = [](const usage_row& r) {
    return std::tie(r.timestamp_ms, r.request_id, r.user_id, r.workspace_id, r.provider, r.model,
                    r.prompt_tokens, r.completion_tokens, r.latency_ms, r.cost_estimate_usd,
                    r.status, r.prompt_id, r.prompt_version, r.attempt, r.estimated);
  };
  return tie(*this) == tie(o);
}

}  // namespace sb::cluster
