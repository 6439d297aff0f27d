#pragma once
// The node's stream journal writer: sessions send each SSE event they relay
// (and the end) here, fire and forget; this actor, on its own thread
// (caf::detached: the Redis journal blocks), appends them in arrival order,
// so one session's events stay in seq order. One per node is enough for the
// in-process journal; with Redis every event is one round trip (~0.1 ms on a
// LAN), so a node streaming more than a few thousand events a second should
// run several and pick one by message id.

#include <memory>

#include "actors/conversation_messages.hpp"
#include "cluster/stream_journal.hpp"

namespace sb::actors {

/// `journal` is used by this actor's thread only.
journal_writer_actor spawn_journal_writer(caf::actor_system& sys,
                                          std::shared_ptr<cluster::stream_journal> journal);

}  // namespace sb::actors
