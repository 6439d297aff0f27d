#pragma once
// The node's ledger writer: usage rows in, batched transactions out
// (cluster::ledger_batcher), on its own thread (caf::detached) because every
// store call blocks. Flushes every flush_interval, or at once when batch_rows
// wait; keeps rows (bounded) while the database is down; writes what waits
// when it stops, so SIGTERM loses no row.
//
// Shutdown: after the sessions have drained, `request(flush_atom)` (or
// anon_send_exit(ledger, user_shutdown)): either way it writes everything
// before it terminates, retrying a down database for up to drain_timeout.

#include <chrono>
#include <memory>

#include "actors/ledger_inbox.hpp"
#include "actors/metering_messages.hpp"
#include "cluster/ledger_batcher.hpp"

namespace sb::actors {

struct ledger_actor_options {
  cluster::ledger_batcher_options batching;           // flush_interval 100 ms, batch 500, …
  std::chrono::milliseconds drain_timeout{5000};      // on exit, with the DB down
  /// Rows may also arrive here instead of as messages (ledger_inbox.hpp);
  /// the actor takes them before every flush and on exit.
  std::shared_ptr<ledger_inbox> inbox;
};

/// `store` is used by this actor's thread only. `counters` (may be null) are
/// read by /metrics: switchboard_ledger_buffered_rows and friends.
ledger_actor spawn_ledger_actor(caf::actor_system& sys, std::shared_ptr<cluster::ledger_store> store,
                                ledger_actor_options options = {},
                                std::shared_ptr<cluster::ledger_counters> counters = nullptr);

}  // namespace sb::actors
