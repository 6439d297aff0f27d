#pragma once
// The fake's shared, thread-safe memory: queued scripts, received requests and
// connection lifecycle. The server's threads write it, the test thread reads it.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/fake_provider.hpp"

namespace sb::fakes {

class provider_state {
 public:
  using clock = std::chrono::steady_clock;

  explicit provider_state(fake_options options);
  const fake_options& options() const { return options_; }
  clock::time_point started_at() const { return started_at_; }

  void push_script(scripted_reply reply);
  void push_script_for_key(std::string api_key, scripted_reply reply);
  // The key's queue first, then the general one.
  std::optional<scripted_reply> take_script(const std::string& api_key);

  void record(recorded_request request);
  std::vector<recorded_request> received() const;
  std::size_t request_count() const;
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;

  std::uint64_t on_accept();  // the new connection's id
  void on_close(std::uint64_t connection_id, clock::time_point when);
  std::uint64_t connections_accepted() const;
  std::uint64_t open_connections() const;
  std::uint64_t connections_closed() const;
  std::optional<clock::time_point> last_close_time() const;
  std::optional<clock::time_point> close_time(std::uint64_t connection_id) const;
  std::optional<clock::time_point> wait_for_close(std::uint64_t connection_id, std::chrono::milliseconds timeout) const;
  std::optional<clock::time_point> wait_for_close_after(clock::time_point since,
                                                        std::chrono::milliseconds timeout) const;

  // Unique per provider: response ids.
  std::uint64_t next_serial();
  void reset();

 private:
  std::optional<clock::time_point> first_close_after(clock::time_point since) const;  // mutex held

  const fake_options options_;
  const clock::time_point started_at_ = clock::now();
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::deque<scripted_reply> scripts_;
  std::map<std::string, std::deque<scripted_reply>> key_scripts_;
  std::vector<recorded_request> received_;
  std::size_t request_count_ = 0;
  std::uint64_t next_connection_id_ = 1;
  std::uint64_t accepted_ = 0;
  std::uint64_t open_ = 0;
  std::map<std::uint64_t, clock::time_point> close_times_;
  std::optional<clock::time_point> last_close_;
  std::uint64_t serial_ = 0;
};

}  // namespace sb::fakes
