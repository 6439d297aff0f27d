#pragma once
// The node's conversation log (SPEC section 7): user messages and streamed
// replies in, coalesced writes out (cluster::conversation_writer), on its
// own thread (caf::detached) because every store call blocks. Reads answer
// from the database with this node's not-yet-written text laid over.
//
// Shutdown: anon_send_exit(actor, user_shutdown) after the sessions ended:
// unfinished replies are written as partial, retrying a down database for
// up to drain_timeout.

#include <chrono>
#include <memory>

#include "actors/conversation_messages.hpp"
#include "cluster/conversation_store.hpp"
#include "cluster/conversation_writer.hpp"

namespace sb::actors {

struct conversation_actor_options {
  cluster::conversation_writer_options writing;  // persist_every = config persist_every_ms
  std::chrono::milliseconds drain_timeout{5000};
};

/// `store` is used by this actor's thread only (open_conversation_store).
conversation_actor spawn_conversation_actor(caf::actor_system& sys,
                                            std::shared_ptr<cluster::conversation_store> store,
                                            conversation_actor_options options = {});

}  // namespace sb::actors
