#pragma once
// Builds the upstream client's handlers for an actor's call: every callback
// (on an I/O thread) becomes an `upstream_event` message to the actor, never
// a touch of its state. Fewer messages, fewer thread wake-ups: the head waits
// for the first body piece, and a call read `whole` sends a single event.

#include <caf/actor.hpp>

#include "actors/messages.hpp"
#include "net/upstream_client.hpp"

namespace sb::actors {

enum class upstream_delivery : std::uint8_t {
  pieces,  // head with the first piece, then each piece as it arrives (streams)
  whole,   // one event once the body ended (an answer read as a whole)
};

/// Handlers that deliver call `call`'s events to `to`.
net::upstream_handlers upstream_event_sink(caf::actor to, std::uint64_t call, upstream_delivery how);

}  // namespace sb::actors
