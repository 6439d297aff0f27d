#pragma once
// The node's quota keeper: reserve before the upstream call, settle after
// (success, failure or cancel), against the workspace's monthly caps in a
// cluster::quota_store (in-process, or Redis shared by every node). Store
// calls block, so it runs detached.
//
// When the store cannot be reached (ADR-0009): a capped workspace's reserve
// answers `unavailable` (fail closed: the caller answers 503, no upstream
// call); an uncapped workspace never touches the store; a settle that fails
// is kept (bounded) and retried until the store is back.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "actors/metering_messages.hpp"

namespace sb::actors {

struct quota_actor_options {
  std::chrono::milliseconds settle_retry_interval{500};
  std::size_t max_pending_settles = 100'000;
};

/// Counters for /metrics, readable from any thread.
struct quota_counters {
  std::atomic<std::uint64_t> pending_settles{0};   // waiting for the store
  std::atomic<std::uint64_t> dropped_settles{0};   // lost: queue full or refused by the store
  std::atomic<std::uint64_t> unavailable{0};       // reserves answered `unavailable`
};

/// `store` is used by this actor's thread only (see open_quota_store).
quota_actor spawn_quota_actor(caf::actor_system& sys, std::shared_ptr<cluster::quota_store> store,
                              quota_actor_options options = {},
                              std::shared_ptr<quota_counters> counters = nullptr);

}  // namespace sb::actors
