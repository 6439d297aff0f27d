#pragma once
// One reattached reader (GET …/messages/{message_id}/stream with
// Last-Event-ID): replays the journal after the client's last seq, then
// follows the live rest, handing each batch to a sink (the endpoint writes
// them as SSE frames), until the stream finishes. A detached actor with its
// own journal connection: wait_for_more blocks. Every read is bounded
// (poll), so an exit message — the client went away — is seen within one
// poll; a sink whose client reads slowly pauses the reading, so nothing
// buffers without bound here (the HTTP server drops a stalled client).
//
// The caller checks first that the message belongs to the workspace
// (conversation_actor, conv_message_atom): the journal knows ids only.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "cluster/stream_journal.hpp"

namespace sb::actors {

enum class journal_tail_end : std::uint8_t {
  finished,   // every event up to the end was delivered; `status` says how it ended
  unknown,    // nothing journaled under the id (never, not yet in start_timeout, or expired)
  truncated,  // events the client missed were dropped (memory bound): no gapless replay
  failed,     // the journal kept failing (Redis down): `error`
};
const char* to_string(journal_tail_end e);

struct journal_tail_result {
  journal_tail_end how = journal_tail_end::failed;
  cluster::message_status status = cluster::message_status::complete;  // for finished
  std::string error;                                                   // for failed
};

/// Runs on the tail actor's thread; must not block for long (post to the
/// connection). Not called after the actor was told to exit.
struct journal_sink {
  /// The next events, in seq order, each once.
  std::function<void(std::vector<cluster::journal_event>)> deliver;
  /// The end, once, after the last deliver.
  std::function<void(journal_tail_result)> done;
  /// Bytes written but not yet on the socket (responder::pending_bytes);
  /// optional. Reading pauses while it is above max_backlog_bytes.
  std::function<std::size_t()> backlog_bytes;
};

struct journal_tail_options {
  std::chrono::milliseconds poll{250};           // longest blocking read
  std::size_t batch = 64;                        // events per read
  std::chrono::milliseconds start_timeout{5000}; // how long "unknown" may last at first
  std::size_t max_backlog_bytes = 256u << 10;
  std::chrono::milliseconds backlog_pause{20};
  int max_failures = 5;                          // consecutive journal errors before failed
  std::chrono::milliseconds retry_pause{200};
};

/// Starts reading after `after_seq` (0 = from the first event). Stop it with
/// anon_send_exit(tail, caf::exit_reason::user_shutdown) when the client goes.
caf::actor spawn_journal_tail(caf::actor_system& sys, cluster::stream_journal_factory journals,
                              std::string message_id, std::uint64_t after_seq, journal_sink sink,
                              journal_tail_options options = {});

}  // namespace sb::actors
