#include "actors/key_state.hpp"

#include <algorithm>

#include "providers/rate_limit_headers.hpp"

namespace sb::actors {

const char* to_string(key_status s) {
  switch (s) {
    case key_status::ready: return "ready";
    case key_status::cooling: return "cooling";
    case key_status::invalid: return "invalid";
    case key_status::quota_exhausted: return "quota_exhausted";
  }
  return "ready";
}

key_state::key_state(std::string provider, std::string id) {
  snap_.provider = std::move(provider);
  snap_.id = std::move(id);
}

key_state::key_state(key_snapshot restored) : snap_(std::move(restored)) {}

void key_state::apply(const attempt_report& r, const retry_config& retry, clock::time_point now,
                      wall_clock::time_point wall_now) {
  if (r.status != 0) snap_.last_status = r.status;
  auto limits = providers::read_rate_limit_headers(r.headers, wall_now);
  if (limits.remaining_requests) snap_.remaining_requests = *limits.remaining_requests;
  if (limits.remaining_tokens) snap_.remaining_tokens = *limits.remaining_tokens;

  if (r.ok) {
    snap_.consecutive_429 = 0;
    return;
  }
  switch (r.kind) {
    case providers::failure_kind::rate_limited: {
      ++snap_.consecutive_429;
      std::chrono::milliseconds wait;
      if (limits.retry_after) {
        wait = *limits.retry_after;
      } else {
        // backoff_base·2^n with n the streak before this one, capped.
        auto n = std::min(snap_.consecutive_429 - 1, 20);
        wait = std::min<std::chrono::milliseconds>(retry.backoff_base * (1LL << n), retry.backoff_max);
      }
      snap_.ready_at = std::max(snap_.ready_at, now + wait);
      snap_.cooldown_until = std::max(snap_.cooldown_until, wall_now + wait);
      break;
    }
    case providers::failure_kind::auth_invalid:
      snap_.state = key_status::invalid;
      break;
    default:
      // 5xx, 402, 404, 4xx say nothing about this key's own budget.
      break;
  }
}

void key_state::apply_remote(const cooldown_notice& n, clock::time_point now, wall_clock::time_point wall_now) {
  if (n.invalid) {
    snap_.state = key_status::invalid;
    return;
  }
  auto until = wall_clock::time_point(std::chrono::milliseconds(n.ready_at_ms));
  if (until <= wall_now) return;  // already over (a late or replayed notice)
  auto wait = std::chrono::duration_cast<clock::duration>(until - wall_now);
  snap_.ready_at = std::max(snap_.ready_at, now + wait);
  snap_.cooldown_until = std::max(snap_.cooldown_until, std::chrono::time_point_cast<wall_clock::duration>(until));
}

key_snapshot key_state::snapshot(clock::time_point now) const {
  auto s = snap_;
  if (s.state != key_status::invalid)
    s.state = s.ready_at > now ? key_status::cooling : key_status::ready;
  return s;
}

}  // namespace sb::actors
