#include "cluster/local_stream_journal.hpp"

#include <algorithm>

namespace sb::cluster {
namespace {

// What an event costs beyond its data (deque slot, seq, string header).
constexpr std::size_t event_overhead = 48;
constexpr auto sweep_every = std::chrono::milliseconds(250);

std::size_t cost_of(const journal_event& e) { return e.data.size() + event_overhead; }

}  // namespace

local_stream_journal::local_stream_journal(stream_journal_options options)
    : options_(options) {}

void local_stream_journal::drop_front(stream& s) {
  const auto cost = cost_of(s.events.front());
  s.dropped_through = s.events.front().seq;
  s.bytes -= cost;
  total_bytes_ -= cost;
  s.events.pop_front();
}

void local_stream_journal::expire(clock::time_point now) {
  if (now < next_sweep_) return;
  next_sweep_ = now + sweep_every;
  for (auto it = streams_.begin(); it != streams_.end();) {
    const auto& s = it->second;
    const auto keep = s.finished ? options_.grace : options_.abandoned_after;
    if (now - s.touched >= keep) {
      total_bytes_ -= s.bytes;
      it = streams_.erase(it);
    } else {
      ++it;
    }
  }
}

void local_stream_journal::enforce_total() {
  while (total_bytes_ > options_.max_total_bytes && !streams_.empty()) {
    // Finished streams first (only late reattaches want them), oldest first.
    auto victim = streams_.end();
    for (auto it = streams_.begin(); it != streams_.end(); ++it) {
      if (victim == streams_.end()) {
        victim = it;
        continue;
      }
      const auto& a = it->second;
      const auto& b = victim->second;
      if (a.finished != b.finished ? a.finished : a.touched < b.touched) victim = it;
    }
    total_bytes_ -= victim->second.bytes;
    streams_.erase(victim);
  }
}

store_status local_stream_journal::append(const std::string& message_id, std::uint64_t seq,
                                          const std::string& data) {
  const auto now = clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    expire(now);
    auto& s = streams_[message_id];
    s.touched = now;
    if (seq <= s.last_seq) return std::nullopt;  // a retry
    s.finished = false;                          // a resume reopens the stream
    s.events.push_back({seq, data});
    s.last_seq = seq;
    const auto cost = cost_of(s.events.back());
    s.bytes += cost;
    total_bytes_ += cost;
    while (s.events.size() > 1 && (s.events.size() > options_.max_events_per_message ||
                                   s.bytes > options_.max_bytes_per_message))
      drop_front(s);
    enforce_total();
  }
  changed_.notify_all();
  return std::nullopt;
}

store_status local_stream_journal::finish(const std::string& message_id, message_status status) {
  const auto now = clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    expire(now);
    auto& s = streams_[message_id];
    if (!s.finished) s.status = status;  // the first finish wins: idempotent
    s.finished = true;
    s.touched = now;
  }
  changed_.notify_all();
  return std::nullopt;
}

journal_read local_stream_journal::collect(const stream& s, std::uint64_t after_seq,
                                           std::size_t max) const {
  journal_read r;
  r.truncated = after_seq < s.dropped_through;
  auto first = std::upper_bound(s.events.begin(), s.events.end(), after_seq,
                                [](std::uint64_t seq, const journal_event& e) { return seq < e.seq; });
  for (auto it = first; it != s.events.end() && r.events.size() < max; ++it) r.events.push_back(*it);
  const bool reached_end = r.events.empty() ? after_seq >= s.last_seq
                                            : r.events.back().seq == s.last_seq;
  r.state = s.finished && reached_end ? journal_state::finished : journal_state::live;
  r.final_status = s.status;
  return r;
}

store_result<journal_read> local_stream_journal::read_after(const std::string& message_id,
                                                            std::uint64_t after_seq,
                                                            std::size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  expire(clock::now());
  auto it = streams_.find(message_id);
  if (it == streams_.end()) return journal_read{};
  return collect(it->second, after_seq, max);
}

store_result<journal_read> local_stream_journal::wait_for_more(const std::string& message_id,
                                                               std::uint64_t after_seq,
                                                               std::chrono::milliseconds timeout,
                                                               std::size_t max) {
  std::unique_lock<std::mutex> lock(mu_);
  expire(clock::now());
  auto ready = [&] {
    auto it = streams_.find(message_id);
    return it != streams_.end() && (it->second.last_seq > after_seq || it->second.finished);
  };
  changed_.wait_for(lock, timeout, ready);
  auto it = streams_.find(message_id);
  if (it == streams_.end()) return journal_read{};
  return collect(it->second, after_seq, max);
}

std::size_t local_stream_journal::streams() const {
  std::lock_guard<std::mutex> lock(mu_);
  return streams_.size();
}

std::size_t local_stream_journal::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_bytes_;
}

}  // namespace sb::cluster
