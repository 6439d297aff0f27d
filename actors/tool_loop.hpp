#pragma once
// SPEC section 9: the gateway's own tool loop (ADR-0013). The session runs
// it; this header holds what the loop shares with the endpoints: the job's
// tool settings, a paused loop awaiting a person's approval, and the store
// that keeps paused loops until someone approves, refuses or they expire.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/tool_registry.hpp"

namespace sb::actors {

/// Model calls per request, the first included. When the 8th answer still
/// asks for registry tools they are not run: the client gets that answer
/// with finish_reason "length" (ADR-0013).
inline constexpr int max_tool_rounds = 8;
/// A paused loop waits this long for a decision by default.
inline constexpr std::chrono::milliseconds default_confirmation_ttl{15 * 60 * 1000};
/// A tool endpoint's answer larger than this is a tool error, not a message.
inline constexpr std::size_t max_tool_answer_bytes = 1u << 20;

/// A loop stopped before a sensitive tool call. `state` is everything the
/// session needs to go on (messages so far, the round's calls, targets,
/// settings), as JSON so that any store (and any node) can keep it.
struct paused_loop {
  std::string id;         // "tc_<hex>": the path segment of /v1/tool-confirmations/{id}
  std::string workspace;  // only this workspace may decide
  std::string tool;
  std::string tool_call_id;
  nlohmann::json arguments;  // validated against the tool's input_schema
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  nlohmann::json state;

  [[nodiscard]] nlohmann::json summary() const;  // what GET lists
  [[nodiscard]] nlohmann::json to_json() const;
  static std::optional<paused_loop> from_json(const nlohmann::json& j);
};

/// Where paused loops wait. Calls are short and synchronous. claim() is the
/// single decision point: it succeeds once per id (a second claim is
/// already_used), and only for the loop's own workspace (another's id is
/// not_found: no probing of other workspaces' ids).
class confirmation_store {
 public:
  enum class claim_error { not_found, already_used, expired, unavailable };
  virtual ~confirmation_store() = default;
  virtual bool put(const paused_loop& p) = 0;  // false: not stored (the store is down)
  /// `expired`, when given, receives the loop if the answer is `expired`
  /// (so that the attempt can be audited with what it was about).
  virtual std::variant<paused_loop, claim_error> claim(const std::string& id, const std::string& workspace,
                                                       std::int64_t now_ms, paused_loop* expired = nullptr) = 0;
  /// The workspace's loops not yet decided nor expired, oldest first.
  virtual std::vector<paused_loop> pending(const std::string& workspace, std::int64_t now_ms) = 0;
};

/// In-process: one node only. Decided and expired entries are kept for an
/// hour after their expiry (so a late second claim still says 409 / 410),
/// then forgotten (404).
std::shared_ptr<confirmation_store> make_memory_confirmation_store();

/// A new confirmation id.
std::string new_confirmation_id();

/// The approval a resumed session carries for its pending call.
struct tool_approval {
  std::string confirmation_id;
  std::string tool_call_id;
  bool approve = false;
  std::string approver;
  std::int64_t requested_ms = 0;  // the loop paused (for the audit record)
  std::int64_t decided_ms = 0;
};

/// chat_job's tool settings: present when the request named gateway_tools
/// (or resumes a paused loop).
struct tool_loop_job {
  std::shared_ptr<const tools::tool_registry> registry;
  std::vector<std::string> names;  // the registry tools offered to the model
  std::shared_ptr<confirmation_store> confirmations;
  std::chrono::milliseconds confirmation_ttl = default_confirmation_ttl;
  // A resume after POST /v1/tool-confirmations/{id}: the paused state and the decision.
  std::optional<nlohmann::json> resume_state;
  std::optional<tool_approval> approval;
};

}  // namespace sb::actors

namespace sb::actors {
/// Cluster mode (REDIS_URL): paused loops in Redis, so any node can decide
/// them. Keys: sb:tc:{id} (the paused loop, JSON), sb:tc:{id}:used (set once,
/// NX: the claim), sb:tc:ws:{workspace} (a sorted set by expiry, for the
/// list). Each lives an hour past the expiry. Null when the URL is invalid.
std::shared_ptr<confirmation_store> make_redis_confirmation_store(const std::string& redis_url);
}  // namespace sb::actors
