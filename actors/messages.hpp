#pragma once
// Every message the actors exchange, and the typed interfaces of the long-
// lived actors, in one header each side can read. CAF 0.17 spelling:
// atom_constant, replies_to<...>::with<...>, reacts_to<...>.
//
// All messages stay on one node (cluster state goes through Redis, not the
// middleman), so types that carry callbacks or JSON are declared local-only.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "net/upstream_client.hpp"
#include "providers/adapter.hpp"

namespace sb::actors {

using clock = std::chrono::steady_clock;
using wall_clock = std::chrono::system_clock;

// --- atoms ---------------------------------------------------------------
using acquire_atom = caf::atom_constant<caf::atom("acquire")>;   // a key for a call
using report_atom = caf::atom_constant<caf::atom("report")>;     // an attempt's outcome
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>; // state for /admin/keys
using keys_atom = caf::atom_constant<caf::atom("keys")>;         // key actor handles (ops, tests)
using gone_atom = caf::atom_constant<caf::atom("gone")>;         // the client went away
using wake_atom = caf::atom_constant<caf::atom("wake")>;         // a backoff or key wait ended
using cooldown_atom = caf::atom_constant<caf::atom("cooldown")>; // a cooldown learned on another node

// --- key state -----------------------------------------------------------

enum class key_status : std::uint8_t { ready, cooling, invalid, quota_exhausted };
const char* to_string(key_status s);

/// What /admin/keys and switchboard_key_state show of one key. Never the secret.
struct key_snapshot {
  std::string id;        // "openai#2"
  std::string provider;  // "openai"
  key_status state = key_status::ready;
  wall_clock::time_point cooldown_until{};  // epoch when not cooling
  clock::time_point ready_at{};             // the same instant on the steady clock
  int last_status = 0;                      // last upstream HTTP status seen, 0 = none
  std::int64_t remaining_requests = -1;     // -1 = unknown
  std::int64_t remaining_tokens = -1;
  int consecutive_429 = 0;
};

/// One upstream attempt's outcome, told to the provider and its key.
struct attempt_report {
  std::size_t slot = 0;                 // which key of the provider
  int status = 0;                       // HTTP status; 0 = no response (network, timeout)
  bool ok = false;                      // 2xx
  providers::failure_kind kind = providers::failure_kind::server_error;
  net::header_list headers;             // the response's headers (rate-limit state)
};

/// A key's cooldown or invalidity as nodes of a cluster tell each other
/// (SPEC section 5, ADR-0006 "Cooldowns in a cluster"). Key ids only, never
/// secrets; the time is wall-clock because steady clocks differ per node.
struct cooldown_notice {
  std::string provider;          // "openai"
  std::string key_id;            // "openai#1"
  std::int64_t ready_at_ms = 0;  // epoch ms the key is usable again
  bool invalid = false;          // rejected (401/403): invalid until reload
};

/// Where a provider actor announces a cooldown it learned itself (empty: a
/// single node). Called on the actor's thread: it must not block.
using cooldown_publisher = std::function<void(const cooldown_notice&)>;

/// The provider's answer to acquire.
struct key_grant {
  enum class kind : std::uint8_t {
    leased,        // use `slot` with `secret` now
    wait,          // no key ready; the soonest is ready at `ready_at`
    unavailable,   // skipped (out of credit) or every key invalid: next provider
  };
  kind what = kind::unavailable;
  std::size_t slot = 0;
  std::string key_id;
  std::string secret;
  clock::time_point ready_at{};
  std::string reason;  // for unavailable: "quota_exhausted" | "all keys invalid"
};

/// What the upstream client tells a session about one call, in order.
/// `call` tells a live call's events from a cancelled one's late ones.
/// Each event is a message and each message may wake a scheduler thread, so
/// they are folded (actors/upstream_event_sink.hpp): a head travels with the
/// first body piece, and an answer read whole arrives as one `whole` event.
struct upstream_event {
  enum class kind : std::uint8_t {
    head,   // the head; `data`, if not empty, is the first body piece
    data,   // a body piece
    end,    // the body ended
    whole,  // head, the whole body in `data`, and the end: all in one
    error,
  };
  std::uint64_t call = 0;
  kind what = kind::data;
  net::upstream_head head;      // for head and whole
  std::string data;             // a body piece, or the whole body
  net::upstream_error error{};  // for error
  std::string detail;           // for error
};

// --- typed interfaces ----------------------------------------------------

/// One per API key: owns its rate-limit state (cooldown, consecutive 429s,
/// remaining budget from headers, invalid flag). Supervised by its provider.
using key_actor = caf::typed_actor<
    // Applies an attempt's outcome; answers the key's new state.
    caf::replies_to<report_atom, attempt_report>::with<key_snapshot>,
    // The key's current state.
    caf::replies_to<snapshot_atom>::with<key_snapshot>,
    // Another node's cooldown of this key; the latest time wins.
    caf::replies_to<cooldown_atom, cooldown_notice>::with<key_snapshot>>;

/// One per provider: picks keys round-robin among ready ones, tracks the
/// provider-wide skip after 402, supervises (restarts) its key actors.
using provider_actor = caf::typed_actor<
    // A key for a call to `model`.
    caf::replies_to<acquire_atom, std::string>::with<key_grant>,
    // An attempt's outcome; forwarded to the key actor.
    caf::reacts_to<report_atom, attempt_report>,
    // Every key's state.
    caf::replies_to<snapshot_atom>::with<std::vector<key_snapshot>>,
    // The key actors themselves (ops and tests).
    caf::replies_to<keys_atom>::with<std::vector<key_actor>>,
    // Another node's cooldown of one of this provider's keys (by key id).
    caf::reacts_to<cooldown_atom, cooldown_notice>>;

}  // namespace sb::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::key_snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::attempt_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::key_grant)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::cooldown_notice)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::upstream_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<sb::actors::key_snapshot>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<sb::actors::key_actor>)
