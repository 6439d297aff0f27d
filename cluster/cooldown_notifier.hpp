#pragma once
// A key cooldown learned on one node holds on every node (SPEC section 5,
// ADR-0006 "Cooldowns in a cluster").
//
// The transport is rollout_notifier's (one Lua script that HSETs the latest
// record per key and PUBLISHes it; a subscriber thread that replays the hash
// on every (re)subscribe), on its own channel and hash. What this adds:
//  - the record: {provider, key_id, ready_at_ms (epoch), invalid, at_ms};
//    key ids only, never secrets;
//  - publish() never blocks its caller (a provider actor): records are
//    queued to a publisher thread, which also keeps the hash's TTL at least
//    as long as the longest cooldown (or invalid_ttl) it holds;
//  - stale records are dropped on receipt: a cooldown already over, an
//    invalid mark older than invalid_ttl (a rotated key is not re-poisoned
//    for longer than that by the replay);
//  - Redis down: publishing warns once per outage; local behaviour is
//    unchanged (each node still cools its own keys).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cluster/rollout_notifier.hpp"

namespace sb::cluster {

struct key_cooldown {
  std::string provider;          // "openai"
  std::string key_id;            // "openai#1"
  std::int64_t ready_at_ms = 0;  // epoch ms the key is usable again
  bool invalid = false;          // rejected: invalid until reload
  std::int64_t at_ms = 0;        // epoch ms it was published
};

std::string encode_key_cooldown(const key_cooldown& c);
std::optional<key_cooldown> decode_key_cooldown(const std::string& payload);

struct cooldown_notifier_options {
  std::string channel = "sb:keys:cooldown";
  std::string hash = "sb:keys:cooldowns";             // provider/key_id -> latest record
  std::chrono::milliseconds invalid_ttl{std::chrono::minutes(10)};
  rollout_notifier_options transport;                 // channel and hash are set from above
};

class cooldown_notifier {
 public:
  using callback = std::function<void(const key_cooldown&)>;

  /// Starts the threads; fails only on a bad URL. on_cooldown runs on the
  /// subscriber thread for every live record (including this node's own).
  static store_result<std::unique_ptr<cooldown_notifier>> start(const std::string& redis_url, callback on_cooldown,
                                                                cooldown_notifier_options options = {});
  ~cooldown_notifier();  // stops and joins both threads; queued records are dropped
  cooldown_notifier(const cooldown_notifier&) = delete;
  cooldown_notifier& operator=(const cooldown_notifier&) = delete;

  /// Queues a record for the cluster; at_ms is set here. Never blocks on Redis.
  void publish(key_cooldown c);

  [[nodiscard]] bool subscribed() const { return transport_ && transport_->subscribed(); }

 private:
  cooldown_notifier(redis_endpoint endpoint, cooldown_notifier_options options);
  void run_publisher();
  bool send(const key_cooldown& c);
  [[nodiscard]] bool live(const key_cooldown& c, std::int64_t now_ms) const;

  cooldown_notifier_options options_;
  redis_connection ttl_conn_;  // publisher thread only
  std::unique_ptr<rollout_notifier> transport_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<key_cooldown> queue_;
  bool stop_ = false;
  bool warned_ = false;  // publisher thread only
  std::thread publisher_;
};

}  // namespace sb::cluster
