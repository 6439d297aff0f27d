#pragma once
// One upstream call as the ledger records it: every column of SPEC section 6.
// (request_id, attempt) identifies a row, so writing the same row twice (a
// flush retried after a lost COMMIT acknowledgement) stores it once.

#include <cstdint>
#include <optional>
#include <string>

namespace sb::cluster {

enum class usage_status : std::uint8_t { ok, error, cancelled };

const char* to_string(usage_status s);
std::optional<usage_status> parse_usage_status(const std::string& s);

struct usage_row {
  std::int64_t timestamp_ms = 0;     // when the call ended, ms since the epoch, UTC
  std::string request_id;            // the client request's x-request-id
  std::string user_id;               // body `user`, X-User-Id, else "anonymous"
  std::string workspace_id;
  std::string provider;              // "openai"
  std::string model;                 // as the provider names it
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t latency_ms = 0;
  double cost_estimate_usd = 0;
  usage_status status = usage_status::ok;
  std::string prompt_id;             // empty = the request used no registered prompt
  int prompt_version = 0;            // 0 = no prompt
  int attempt = 1;                   // 1-based, unique within request_id
  bool estimated = false;            // tokens estimated (stream cut short without usage)

  [[nodiscard]] std::int64_t total_tokens() const { return prompt_tokens + completion_tokens; }
  bool operator==(const usage_row& o) const;
};

}  // namespace sb::cluster
