#pragma once
// PUT /admin/prompts/{name}/rollout reaches every node of a cluster (SPEC 8,
// ADR-0012 "Rollouts in a cluster"). The rollout JSON travels in the message
// and each node writes its own rollout.json: nodes need not share a disk.
//
// publish(): in one Lua script, HSET the rollout into a hash (the cluster's
// memory of the latest split per prompt) and PUBLISH "name\n<rollout json>"
// on the channel; atomic, so hash order and message order agree.
// A subscriber thread calls on_change(name, rollout_json) for every message,
// and for every hash entry each time it (re)subscribes: a node that was down
// or cut off during a PUT catches up when it comes back. It hears its own
// publishes too; applying the same split twice is a no-op by design.
//
// Plain threads and hiredis; no CAF. on_change runs on the subscriber thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cluster/redis_connection.hpp"
#include "cluster/store_error.hpp"

namespace sb::cluster {

struct rollout_notifier_options {
  std::string channel = "sb:prompts:rollout";
  std::string hash = "sb:prompts:rollouts";  // name -> latest rollout JSON
  std::chrono::milliseconds poll_interval{200};     // how soon stop() is noticed
  std::chrono::milliseconds reconnect_pause{500};   // between subscribe attempts
  redis_options redis;                              // publish and catch-up connection
  std::string label = "prompt rollouts";            // what the log lines call it
};

class rollout_notifier {
 public:
  using callback = std::function<void(const std::string& name, const std::string& rollout_json)>;

  /// Starts the subscriber thread; fails only on a bad URL (Redis being down
  /// is retried in the background, as for every other Redis user).
  static store_result<std::unique_ptr<rollout_notifier>> start(const std::string& redis_url,
                                                               callback on_change,
                                                               rollout_notifier_options options = {});
  ~rollout_notifier();  // stops and joins the thread
  rollout_notifier(const rollout_notifier&) = delete;
  rollout_notifier& operator=(const rollout_notifier&) = delete;

  /// Records and announces a new split (blocking, bounded by the command
  /// timeout). Thread-safe. An error means other nodes were not told.
  store_status publish(const std::string& name, const std::string& rollout_json);

  /// True once the thread is subscribed (tests wait for it).
  [[nodiscard]] bool subscribed() const { return subscribed_.load(); }

 private:
  rollout_notifier(redis_endpoint endpoint, callback on_change, rollout_notifier_options options);
  void run();
  bool subscribe_and_listen();  // false: connection lost, retry
  void catch_up(redis_connection& conn);
  void deliver(const std::string& payload);

  redis_endpoint endpoint_;
  callback on_change_;
  rollout_notifier_options options_;
  std::mutex publish_mutex_;
  redis_connection publisher_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> subscribed_{false};
  std::thread thread_;
};

}  // namespace sb::cluster
