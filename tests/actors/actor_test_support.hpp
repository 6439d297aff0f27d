#pragma once
// An actor system sized like production (2 workers) for actor-level tests,
// and a polling helper: actors answer asynchronously.

#include <chrono>
#include <functional>
#include <thread>

#include <caf/all.hpp>

namespace sb::testing {

inline caf::actor_system_config& small_actor_config() {
  static caf::actor_system_config cfg = [] {
    caf::actor_system_config c;
    c.set("scheduler.max-threads", 2);
    c.set("logger.console", caf::atom("none"));
    return c;
  }();
  return cfg;
}

/// True once `pred` holds, polling for up to `timeout`.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

}  // namespace sb::testing
