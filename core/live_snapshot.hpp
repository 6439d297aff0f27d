#pragma once
// An immutable snapshot that a reload swaps whole (SIGHUP, PUT rollout):
// readers take the current one and keep it for their request, so a request
// never sees half of an old and half of a new state.

#include <memory>
#include <mutex>

namespace sb {

template <class T>
class live_snapshot {
 public:
  explicit live_snapshot(std::shared_ptr<const T> initial = std::make_shared<const T>())
      : current_(std::move(initial)) {}

  [[nodiscard]] std::shared_ptr<const T> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void set(std::shared_ptr<const T> next) {
    std::lock_guard lock(mutex_);
    current_.swap(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> current_;
};

}  // namespace sb
