#pragma once
// One key's rate-limit state machine, free of actors so it can be tested
// with a fake clock. The key actor wraps it.

#include "actors/messages.hpp"
#include "core/config.hpp"

namespace sb::actors {

class key_state {
 public:
  key_state(std::string provider, std::string id);
  /// Restores what a restarted key actor knew before (supervision).
  explicit key_state(key_snapshot restored);

  /// Folds an attempt's outcome into the state (SPEC section 5):
  /// 429 cools the key until the latest time its headers name, else for
  /// backoff_base·2^n (n = consecutive 429s), capped at backoff_max;
  /// 401/403 mark it invalid until reload; a 2xx clears the 429 streak.
  void apply(const attempt_report& r, const retry_config& retry, clock::time_point now,
             wall_clock::time_point wall_now);

  /// Folds in a cooldown another node learned: never shortens a cooldown
  /// (the latest time wins), never clears invalid, leaves the 429 streak.
  void apply_remote(const cooldown_notice& n, clock::time_point now, wall_clock::time_point wall_now);

  [[nodiscard]] bool usable(clock::time_point now) const {
    return snap_.state != key_status::invalid && snap_.ready_at <= now;
  }
  [[nodiscard]] key_snapshot snapshot(clock::time_point now) const;

 private:
  key_snapshot snap_;
};

}  // namespace sb::actors
