#pragma once
// The ledger's write-behind buffer: rows wait here until a flush writes them
// in batches; while the database is down they stay (up to a bound) and the
// next flushes retry with backoff. No actor, no timer: the ledger actor owns
// one and says when to flush, so the policy is testable without CAF.
//
// Not thread-safe: one owner.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "cluster/ledger_store.hpp"

namespace sb::cluster {

struct ledger_batcher_options {
  std::chrono::milliseconds flush_interval{100};  // kill -9 loses at most this much
  std::size_t batch_rows = 500;                   // flush now at this many; rows per transaction
  std::size_t max_backlog = 100'000;              // rows kept while the database is down
  std::chrono::milliseconds max_retry_interval{5000};
};

/// Counters for /metrics, readable from any thread.
struct ledger_counters {
  std::atomic<std::uint64_t> buffered{0};        // rows waiting now
  std::atomic<std::uint64_t> written{0};         // rows committed since start
  std::atomic<std::uint64_t> dropped{0};         // rows lost: backlog full, or shutdown with the DB down
  std::atomic<std::uint64_t> failed_flushes{0};  // flush attempts the database refused
};

class ledger_batcher {
 public:
  using clock = std::chrono::steady_clock;

  ledger_batcher(std::shared_ptr<ledger_store> store, ledger_batcher_options options,
                 std::shared_ptr<ledger_counters> counters);

  /// Queues rows. Past max_backlog the newest are dropped (counted, logged).
  void add(std::vector<usage_row> rows);
  /// True when enough rows wait to flush without waiting for the timer.
  [[nodiscard]] bool batch_full() const;
  /// True when a flush should run now (rows wait and no backoff holds).
  [[nodiscard]] bool due(clock::time_point now) const;
  /// Writes waiting rows batch by batch until none wait or one fails; a
  /// failure keeps the rows and backs off. Returns the failure, if any.
  store_status flush(clock::time_point now);
  /// How long until the next flush should run (flush_interval, or the backoff).
  [[nodiscard]] std::chrono::milliseconds next_delay(clock::time_point now) const;

  [[nodiscard]] std::size_t buffered() const { return rows_.size(); }
  [[nodiscard]] const std::string& last_error() const { return last_error_; }
  [[nodiscard]] const ledger_counters& counters() const { return *counters_; }
  [[nodiscard]] ledger_store& store() { return *store_; }

  /// Shutdown: tries to write everything, retrying failures until `deadline`;
  /// rows still unwritten then are counted as dropped and logged.
  store_status drain(clock::time_point deadline);

 private:
  void publish();

  std::shared_ptr<ledger_store> store_;
  ledger_batcher_options options_;
  std::shared_ptr<ledger_counters> counters_;
  std::deque<usage_row> rows_;
  clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;
  bool warned_full_ = false;
};

}  // namespace sb::cluster
