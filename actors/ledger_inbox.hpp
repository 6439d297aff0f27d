#pragma once
// Usage rows on their way to the ledger actor, without a message per row.
//
// The ledger actor is detached (it blocks on its database), so a message to
// it wakes its thread: one wake-up per upstream call, a fifth of the
// gateway's CPU at 32 connections (bench/RESULTS.md). Sessions put rows here
// under a mutex instead; only the row that finds the inbox empty sends the
// actor a nudge, and the actor takes everything on each flush tick.

#include <mutex>
#include <utility>
#include <vector>

#include "cluster/usage_row.hpp"

namespace sb::actors {

class ledger_inbox {
 public:
  /// true: the inbox was empty, so the ledger actor must be nudged.
  bool add(cluster::usage_row row) {
    std::lock_guard<std::mutex> lock(mutex_);
    rows_.push_back(std::move(row));
    return rows_.size() == 1;
  }

  /// Everything waiting, oldest first; the inbox is empty after.
  std::vector<cluster::usage_row> take() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(rows_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<cluster::usage_row> rows_;
};

}  // namespace sb::actors
