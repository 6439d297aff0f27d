#pragma once
// Messages and typed interfaces of the two metering actors, the ledger and
// the quota. Kept apart from actors/messages.hpp until the session wiring
// merges them; CAF 0.17 spelling (atom_constant, replies_to<...>::with<...>).
//
// Everything stays on one node (cluster state goes through Redis and the
// database, not the middleman), so the types are declared local-only.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "cluster/ledger_store.hpp"
#include "cluster/prompt_stats.hpp"
#include "cluster/quota_store.hpp"
#include "cluster/store_error.hpp"
#include "cluster/tool_audit.hpp"
#include "cluster/usage_row.hpp"

namespace sb::actors {

// --- atoms ---------------------------------------------------------------
using append_atom = caf::atom_constant<caf::atom("append")>;        // usage rows to write
using flush_atom = caf::atom_constant<caf::atom("flush")>;          // write what waits, now
using stats_atom = caf::atom_constant<caf::atom("stats")>;          // counters
using aggregate_atom = caf::atom_constant<caf::atom("aggregate")>;  // GET /v1/usage
using events_atom = caf::atom_constant<caf::atom("events")>;        // GET /v1/usage/events
using health_atom = caf::atom_constant<caf::atom("health")>;        // GET /readyz
using reserve_atom = caf::atom_constant<caf::atom("reserve")>;      // before the upstream call
using settle_atom = caf::atom_constant<caf::atom("settle")>;        // after it
using usage_atom = caf::atom_constant<caf::atom("usage")>;          // a quota counter
using tick_atom = caf::atom_constant<caf::atom("tick")>;            // an actor's own timer
using prompt_stats_atom = caf::atom_constant<caf::atom("pstats")>;  // GET /v1/prompts/{name}/stats
using feedback_atom = caf::atom_constant<caf::atom("feedback")>;    // POST /v1/feedback
using audit_atom = caf::atom_constant<caf::atom("audit")>;          // a sensitive tool decision
using audits_atom = caf::atom_constant<caf::atom("audits")>;        // GET /v1/tool-confirmations

// --- ledger --------------------------------------------------------------

struct ledger_stats {
  std::uint64_t buffered = 0;        // rows waiting for the database
  std::uint64_t written = 0;         // rows committed since start
  std::uint64_t dropped = 0;         // rows lost (backlog full / shutdown with the DB down)
  std::uint64_t failed_flushes = 0;  // flushes the database refused
  std::string last_error;            // empty while the database takes writes
};

/// GET /v1/usage: the month's sums, or why not (bad_input: a bad period ->
/// 400; unavailable -> 503).
struct usage_summary_reply {
  std::optional<cluster::store_error> error;
  cluster::usage_summary summary;
};

/// GET /v1/usage/events: the month's rows, or why not.
struct usage_events_reply {
  std::optional<cluster::store_error> error;
  std::vector<cluster::usage_row> rows;
};

/// GET /v1/prompts/{name}/stats: one line per version (ascending), or why
/// not (bad_input -> 400, else 503).
struct prompt_stats_reply {
  std::optional<cluster::store_error> error;
  std::vector<cluster::prompt_version_stats> versions;
};

/// POST /v1/feedback: recorded (found), no such request in the workspace
/// (!found -> 404), or why not.
struct feedback_reply {
  std::optional<cluster::store_error> error;
  bool found = false;
};

/// A sensitive tool decision written (nullopt error), or why not.
struct tool_audit_reply {
  std::optional<cluster::store_error> error;
};

/// GET /v1/tool-confirmations?status=approved|refused|expired.
struct tool_audits_reply {
  std::optional<cluster::store_error> error;
  std::vector<cluster::tool_audit_record> records;
};

/// GET /readyz: nullopt error = reachable.
struct store_health {
  std::optional<cluster::store_error> error;
  std::string backend;  // "sqlite", "postgresql", "local", "redis"
};

/// One per node. Writes usage rows in batches off the scheduler's threads
/// (a detached actor); reads flush first, so a node reads its own writes.
using ledger_actor = caf::typed_actor<
    // One row per upstream call (SPEC section 6). Fire and forget.
    caf::reacts_to<append_atom, cluster::usage_row>,
    caf::reacts_to<append_atom, std::vector<cluster::usage_row>>,
    // Writes everything waiting now; answers the counters after.
    caf::replies_to<flush_atom>::with<ledger_stats>,
    caf::replies_to<stats_atom>::with<ledger_stats>,
    // (workspace, period "YYYY-MM")
    caf::replies_to<aggregate_atom, std::string, std::string>::with<usage_summary_reply>,
    caf::replies_to<events_atom, std::string, std::string>::with<usage_events_reply>,
    caf::replies_to<health_atom>::with<store_health>,
    // (workspace, prompt id, period "YYYY-MM"): per-version stats.
    caf::replies_to<prompt_stats_atom, std::string, std::string, std::string>::with<prompt_stats_reply>,
    // A score for a request of the record's workspace (replaces an earlier one).
    caf::replies_to<feedback_atom, cluster::feedback_record>::with<feedback_reply>,
    // A decision on a sensitive tool call, written at once (not batched):
    // the approved call runs only once its record is stored.
    caf::replies_to<audit_atom, cluster::tool_audit_record>::with<tool_audit_reply>,
    caf::replies_to<audits_atom, cluster::tool_audit_query>::with<tool_audits_reply>,
    // Internal: the flush timer.
    caf::reacts_to<tick_atom>>;

// --- quota ---------------------------------------------------------------

/// What a request asks to reserve before its first upstream call.
struct quota_request {
  std::string workspace;
  std::string period;            // "YYYY-MM"; empty = the current UTC month
  cluster::quota_amount amount;  // tokens: prompt estimate + max_tokens (else the default
                                 // reservation); cost_micros: those tokens priced (0 = none)
  cluster::quota_caps caps;      // the workspace's caps; none = not metered, always admitted
};

enum class quota_verdict : std::uint8_t {
  admitted,     // go ahead; settle `decision.reservation` afterwards
  refused,      // 402 workspace_cap_reached (decision says which cap, usage, remaining)
  unavailable,  // the quota store cannot be reached: 503, no upstream call (ADR-0009)
};

struct quota_answer {
  quota_verdict verdict = quota_verdict::unavailable;
  std::string period;                 // the period counted in ("YYYY-MM")
  cluster::quota_decision decision;   // used, remaining_*, refused_by, reservation
  std::string error;                  // for unavailable
  /// An unmetered workspace (no caps): nothing was counted, settle is a no-op.
  [[nodiscard]] bool metered() const { return !decision.reservation.workspace.empty(); }
};

/// The answer to settle: applied now, or kept to retry (Redis down).
struct settle_answer {
  bool applied = false;
  std::uint64_t pending = 0;  // settles waiting for the store
};

struct quota_usage_reply {
  std::optional<cluster::store_error> error;
  cluster::quota_amount used;
};

/// One per node. Reserve-then-settle against the workspace's monthly caps;
/// the store calls block (Redis), so it is a detached actor.
using quota_actor = caf::typed_actor<
    caf::replies_to<reserve_atom, quota_request>::with<quota_answer>,
    // (the answer's reservation, the real usage). Safe to fire and forget.
    caf::replies_to<settle_atom, cluster::quota_reservation, cluster::quota_amount>::with<settle_answer>,
    // (workspace, period): what the counter holds (GET /v1/usage remaining_tokens).
    caf::replies_to<usage_atom, std::string, std::string>::with<quota_usage_reply>,
    caf::replies_to<health_atom>::with<store_health>,
    // Internal: retries settles that failed while the store was down.
    caf::reacts_to<tick_atom>>;

}  // namespace sb::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::cluster::usage_row)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<sb::cluster::usage_row>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::cluster::quota_reservation)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::cluster::quota_amount)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::ledger_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::usage_summary_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::usage_events_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::store_health)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::cluster::feedback_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::prompt_stats_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::feedback_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::cluster::tool_audit_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::cluster::tool_audit_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::tool_audit_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::tool_audits_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::quota_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::quota_answer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::settle_answer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::quota_usage_reply)
