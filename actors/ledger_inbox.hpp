#pragma once
// Usage rows on their way to the ledger actor, without a message per row.
//
// The ledger actor is detached (it blocks on its database), so a message to
// it wakes its thread: one wake-up per upstream call cost a fifth of the
// gateway's CPU at 32 connections, and a futex round on the request's own
// path at 1 connection (bench/RESULTS.md). Sessions put rows here under a
// mutex instead. The row that finds the inbox empty nudges the actor, which
// only arms its flush tick; the rows behind it find the inbox non-empty and
// stay quiet until that tick takes them all. A full batch nudges again, so a
// burst is written without waiting for the tick.

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include "cluster/usage_row.hpp"

namespace sb::actors {

class ledger_inbox {
 public:
  /// `batch_rows`: every this many waiting rows, the actor is nudged again.
  explicit ledger_inbox(std::size_t batch_rows = 500) : batch_rows_(batch_rows ? batch_rows : 1) {}

  /// true: the ledger actor must be nudged (the first row, or a full batch).
  bool add(cluster::usage_row row) {
    std::lock_guard<std::mutex> lock(mutex_);
    rows_.push_back(std::move(row));
    return rows_.size() == 1 || rows_.size() % batch_rows_ == 0;
  }

  /// Everything waiting, oldest first; the inbox is empty after.
  std::vector<cluster::usage_row> take() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(rows_, {});
  }

  [[nodiscard]] std::size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return rows_.size();
  }

  [[nodiscard]] std::size_t batch_rows() const { return batch_rows_; }

 private:
  mutable std::mutex mutex_;
  std::vector<cluster::usage_row> rows_;
  std::size_t batch_rows_;
};

}  // namespace sb::actors
