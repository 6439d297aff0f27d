#pragma once
// Messages and typed interfaces of the conversation log and the stream
// journal (SPEC section 7, issue 6): the conversation actor (the database
// side) and the journal writer (the SSE events a reattach replays). The
// journal's readers are journal_tail_actor. Kept apart from messages.hpp and
// metering_messages.hpp; reuses the latter's flush/tick/health atoms and
// store_health. Local-only types, like every message here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/metering_messages.hpp"
#include "cluster/conversation_message.hpp"
#include "cluster/store_error.hpp"

namespace sb::actors {

// --- atoms ---------------------------------------------------------------
using conv_user_atom = caf::atom_constant<caf::atom("convuser")>;      // log the user message
using conv_start_atom = caf::atom_constant<caf::atom("convstart")>;    // a reply starts streaming
using conv_delta_atom = caf::atom_constant<caf::atom("convdelta")>;    // reply text, in order
using conv_finish_atom = caf::atom_constant<caf::atom("convfinish")>;  // the reply ended
using conv_get_atom = caf::atom_constant<caf::atom("convget")>;        // GET /v1/conversations/{id}
using conv_message_atom = caf::atom_constant<caf::atom("convmsg")>;    // one message
using journal_append_atom = caf::atom_constant<caf::atom("jappend")>;  // one SSE event
using journal_finish_atom = caf::atom_constant<caf::atom("jfinish")>;  // the stream ended

// --- conversation --------------------------------------------------------

struct conversation_stats {
  std::uint64_t pending = 0;        // replies with text not yet in the database
  std::uint64_t writes = 0;         // successful store writes since start
  std::uint64_t failed_writes = 0;  // store writes refused or unreachable (retried)
  std::uint64_t dropped = 0;        // writes given up (bad input, backlog full, shutdown)
  std::string last_error;           // empty while the database takes writes
};

/// GET /v1/conversations/{id}: error (unavailable -> 503, bad_input -> 400),
/// else the conversation, or nullopt (-> 404: unknown in this workspace).
struct conversation_reply {
  std::optional<cluster::store_error> error;
  std::optional<cluster::conversation_record> conversation;
};

/// One message (the stream and resume endpoints check it exists, in this
/// workspace's conversation, and its status).
struct message_reply {
  std::optional<cluster::store_error> error;
  std::optional<cluster::stored_message> message;
};

/// One per node, detached (the store calls block). Writes are fire and
/// forget; replies are persisted at most every persist_every while they
/// stream, and at once when they finish. Reads show this node's unsaved text.
using conversation_actor = caf::typed_actor<
    // (key, content, request_id): the request's last user message.
    caf::reacts_to<conv_user_atom, cluster::message_key, std::string, std::string>,
    // (key, origin, initial content): the reply row, in_progress. Again on
    // the same key (cascade moved on, resume) updates origin; initial content
    // = the stored partial text when resuming, else "".
    caf::reacts_to<conv_start_atom, cluster::message_key, cluster::message_origin, std::string>,
    // (key, text): appended to the reply's content.
    caf::reacts_to<conv_delta_atom, cluster::message_key, std::string>,
    // (key, complete | partial): persisted now.
    caf::reacts_to<conv_finish_atom, cluster::message_key, cluster::message_status>,
    // (workspace, conversation id)
    caf::replies_to<conv_get_atom, std::string, std::string>::with<conversation_reply>,
    caf::replies_to<conv_message_atom, cluster::message_key>::with<message_reply>,
    // Persists everything waiting now; answers the counters after.
    caf::replies_to<flush_atom>::with<conversation_stats>,
    caf::replies_to<health_atom>::with<store_health>,
    // Internal: the persist timer.
    caf::reacts_to<tick_atom>>;

// --- stream journal ------------------------------------------------------

struct journal_writer_stats {
  std::uint64_t appended = 0;  // events written
  std::uint64_t failed = 0;    // events or finishes the journal refused (not retried)
  std::string last_error;
};

/// One per node, detached (Redis calls block). Fire and forget, in order.
/// A failed write is counted, not retried: the live client already has the
/// event; only a later reattach would miss it (and sees a gap as truncated
/// only if the journal trimmed; see stream_journal.hpp).
using journal_writer_actor = caf::typed_actor<
    // (message_id, seq 1, 2, …, SSE data)
    caf::reacts_to<journal_append_atom, std::string, std::uint64_t, std::string>,
    // (message_id, complete | partial)
    caf::reacts_to<journal_finish_atom, std::string, cluster::message_status>,
    // Answers once everything sent before has been written.
    caf::replies_to<flush_atom>::with<journal_writer_stats>>;

}  // namespace sb::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::cluster::message_key)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::cluster::message_origin)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::cluster::message_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::conversation_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::conversation_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::message_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sb::actors::journal_writer_stats)
