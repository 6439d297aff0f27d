#pragma once
// Runs the actor system's event-based actors on the gateway's I/O threads,
// instead of on CAF's own pool of scheduler threads.
//
// Why: a request crossed between the I/O threads and CAF's workers at least
// four times (request in, upstream call out, answer in, response out), and
// each crossing woke a sleeping thread: on a 2-core box that was most of the
// latency Switchboard added (bench/RESULTS.md). Here a message sent from an
// I/O thread runs its actor on that same thread right after the current
// handler, so a request travels from socket to socket without a hand-off.
// Actors that block on a store (ledger, quota, conversations, journals) are
// spawned `detached` and keep a thread of their own.

#include <caf/actor_system_config.hpp>

namespace sb {

namespace net {
class io_threads;
}

/// Makes the actor system later built from `cfg` schedule its actors on
/// `threads`: a message sent from one of them runs its actor there, one sent
/// from elsewhere on the next in turn. `threads` must outlive the actor
/// system, and keep running until every actor has stopped.
void schedule_actors_on(caf::actor_system_config& cfg, net::io_threads& threads);

}  // namespace sb
