#pragma once
// The stream journal of one node: events in memory, bounded per message
// (events and bytes: the oldest go first) and in total (whole streams go,
// finished ones first, then the least recently written), expired `grace`
// after finish. Thread-safe: every session and reader of the node shares
// one instance; wait_for_more sleeps on a condition variable.

#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "cluster/stream_journal.hpp"

namespace sb::cluster {

class local_stream_journal final : public stream_journal {
 public:
  using clock = std::chrono::steady_clock;

  explicit local_stream_journal(stream_journal_options options = {});

  store_status append(const std::string& message_id, std::uint64_t seq,
                      const std::string& data) override;
  store_status finish(const std::string& message_id, message_status status) override;
  store_result<journal_read> read_after(const std::string& message_id, std::uint64_t after_seq,
                                        std::size_t max) override;
  store_result<journal_read> wait_for_more(const std::string& message_id, std::uint64_t after_seq,
                                           std::chrono::milliseconds timeout,
                                           std::size_t max) override;
  [[nodiscard]] const char* backend() const override { return "local"; }

  /// For tests and metrics: streams held and their bytes.
  [[nodiscard]] std::size_t streams() const;
  [[nodiscard]] std::size_t bytes() const;

 private:
  struct stream {
    std::deque<journal_event> events;
    std::uint64_t last_seq = 0;
    std::uint64_t dropped_through = 0;  // every seq <= this one was evicted
    std::size_t bytes = 0;
    bool finished = false;
    message_status status = message_status::complete;
    clock::time_point touched{};  // last append or finish
  };

  journal_read collect(const stream& s, std::uint64_t after_seq, std::size_t max) const;
  void drop_front(stream& s);
  void expire(clock::time_point now);  // caller holds mu_
  void enforce_total();                // caller holds mu_

  stream_journal_options options_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::unordered_map<std::string, stream> streams_;
  std::size_t total_bytes_ = 0;
  clock::time_point next_sweep_{};
};

}  // namespace sb::cluster
