#include "cluster/ledger_batcher.hpp"

#include <algorithm>
#include <thread>

#include "core/log.hpp"

namespace sb::cluster {

ledger_batcher::ledger_batcher(std::shared_ptr<ledger_store> store, ledger_batcher_options options,
                               std::shared_ptr<ledger_counters> counters)
    : store_(std::move(store)), options_(options), counters_(std::move(counters)) {
  if (!counters_) counters_ = std::make_shared<ledger_counters>();
  options_.batch_rows = std::max<std::size_t>(1, options_.batch_rows);
}

void ledger_batcher::publish() { counters_->buffered = rows_.size(); }

void ledger_batcher::add(std::vector<usage_row> rows) {
  for (auto& r : rows) {
    if (rows_.size() >= options_.max_backlog) {
      // Keep the older rows: they have waited longest and are as billable.
      const auto lost = static_cast<std::uint64_t>(&rows.back() - &r + 1);
      counters_->dropped += lost;
      if (!warned_full_)
        log::error("ledger: backlog full (" + std::to_string(options_.max_backlog) +
                   " rows) while the database is unreachable; dropping new usage rows");
      warned_full_ = true;
      break;
    }
    rows_.push_back(std::move(r));
  }
  publish();
}

bool ledger_batcher::batch_full() const { return rows_.size() >= options_.batch_rows; }

bool ledger_batcher::due(clock::time_point now) const { return !rows_.empty() && now >= retry_at_; }

std::chrono::milliseconds ledger_batcher::next_delay(clock::time_point now) const {
  if (now < retry_at_)
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - now),
                    std::chrono::milliseconds(1));
  return options_.flush_interval;
}

store_status ledger_batcher::flush(clock::time_point now) {
  while (!rows_.empty()) {
    const std::size_t n = std::min(options_.batch_rows, rows_.size());
    std::vector<usage_row> batch(rows_.begin(), rows_.begin() + static_cast<std::ptrdiff_t>(n));
    if (auto e = store_->append(batch)) {
      ++counters_->failed_flushes;
      backoff_ = backoff_.count() == 0 ? options_.flush_interval
                                       : std::min(backoff_ * 2, options_.max_retry_interval);
      retry_at_ = now + backoff_;
      if (last_error_.empty())
        log::warn("ledger: cannot write usage rows (" + e->to_string() +
                  "); keeping them and retrying");
      last_error_ = e->to_string();
      return e;
    }
    rows_.erase(rows_.begin(), rows_.begin() + static_cast<std::ptrdiff_t>(n));
    counters_->written += n;
    publish();
  }
  if (!last_error_.empty()) log::info("ledger: database writable again; backlog written");
  last_error_.clear();
  warned_full_ = false;
  backoff_ = std::chrono::milliseconds(0);
  retry_at_ = {};
  return std::nullopt;
}

store_status ledger_batcher::drain(clock::time_point deadline) {
  store_status last;
  for (;;) {
    last = flush(clock::now());
    if (!last || clock::now() >= deadline) break;
    auto wait = std::min<clock::duration>(next_delay(clock::now()), deadline - clock::now());
    std::this_thread::sleep_for(wait);
  }
  if (!rows_.empty()) {
    counters_->dropped += rows_.size();
    log::error("ledger: shutting down with " + std::to_string(rows_.size()) +
               " usage rows unwritten: " + (last ? last->to_string() : std::string("unknown")));
    rows_.clear();
    publish();
  }
  return last;
}

}  // namespace sb::cluster
