#pragma once
// Where sessions find the live provider actor of a provider id. The
// supervisor replaces a handle when it restarts a provider actor; readers
// take a shared lock for one map lookup.

#include <map>
#include <optional>
#include <shared_mutex>
#include <string>

#include "actors/messages.hpp"

namespace sb::actors {

class provider_directory {
 public:
  [[nodiscard]] std::optional<provider_actor> find(const std::string& provider) const {
    std::shared_lock lock(mutex_);
    auto i = actors_.find(provider);
    if (i == actors_.end()) return std::nullopt;
    return i->second;
  }
  void set(const std::string& provider, provider_actor a) {
    std::unique_lock lock(mutex_);
    actors_[provider] = std::move(a);
  }
  [[nodiscard]] std::map<std::string, provider_actor> all() const {
    std::shared_lock lock(mutex_);
    return actors_;
  }

 private:
  mutable std::shared_mutex mutex_;
  std::map<std::string, provider_actor> actors_;
};

}  // namespace sb::actors
