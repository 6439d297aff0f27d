#pragma once
// The conversation actor's write-behind buffer: holds each streaming reply's
// text and writes it to the conversation store at most every persist_every
// (a reply of a thousand tokens costs a few UPDATEs, not a thousand), and at
// once when the reply finishes. User messages and reply starts are written
// at once. After the store was unreachable, writes pause (doubling up to
// max_pause) so a down database costs the actor one timeout per pause, not
// one per token; what waits stays in memory, bounded by max_pending.
//
// Plain C++, one owner thread (the conversation actor): no locks.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "cluster/conversation_store.hpp"

namespace sb::cluster {

struct conversation_writer_options {
  std::chrono::milliseconds persist_every{200};  // SPEC persist_every_ms
  std::chrono::milliseconds first_pause{250};    // after an unreachable store
  std::chrono::milliseconds max_pause{5000};
  std::size_t max_pending = 10000;  // replies + user messages waiting; more are dropped
};

struct conversation_writer_counters {
  std::uint64_t writes = 0;
  std::uint64_t failed_writes = 0;
  std::uint64_t dropped = 0;
  std::string last_error;
};

class conversation_writer {
 public:
  using clock = std::chrono::steady_clock;

  conversation_writer(std::shared_ptr<conversation_store> store,
                      conversation_writer_options options);

  void log_user(const message_key& key, std::string content, std::string request_id,
                clock::time_point now);
  void start_reply(const message_key& key, message_origin origin, std::string initial_content,
                   clock::time_point now);
  void add_text(const message_key& key, const std::string& text, clock::time_point now);
  void finish_reply(const message_key& key, message_status status, clock::time_point now);

  /// Writes what is due (or everything, `force`: ignores persist_every and
  /// the outage pause).
  void persist(clock::time_point now, bool force = false);
  /// When persist() next has something to do; nullopt = nothing waits.
  [[nodiscard]] std::optional<clock::time_point> next_due() const;
  /// Marks every unfinished reply partial (nobody will continue it here)
  /// and writes everything, retrying until `deadline`.
  void drain(clock::time_point deadline);

  /// The text this node holds but has not written yet, laid over a read.
  void overlay(conversation_record& c) const;
  void overlay(stored_message& m, const message_key& key) const;

  [[nodiscard]] std::size_t pending() const { return replies_.size() + users_.size(); }
  [[nodiscard]] const conversation_writer_counters& counters() const { return counters_; }
  [[nodiscard]] conversation_store& store() { return *store_; }

 private:
  struct reply {
    message_key key;
    message_origin origin;
    std::string content;
    message_status status = message_status::in_progress;
    bool stored = false;     // the row exists (start written)
    bool restart = false;    // start must be (re)written: new reply, new origin
    std::string initial;     // the content start writes
    bool dirty = false;      // content or status newer than the row
    bool finished = false;
    clock::time_point last_write{};
  };
  struct user_message {
    message_key key;
    std::string content;
    std::string request_id;
  };

  static std::string id_of(const message_key& key);
  /// false when the store is unreachable (the caller stops for now).
  bool write(reply& r, clock::time_point now);
  bool write(const user_message& u, clock::time_point now);
  /// Classifies a failure: true = keep it to retry, false = give it up.
  bool failed(const store_error& e, clock::time_point now);
  void succeeded();
  [[nodiscard]] bool paused(clock::time_point now) const { return now < paused_until_; }
  [[nodiscard]] bool due(const reply& r, clock::time_point now) const;

  std::shared_ptr<conversation_store> store_;
  conversation_writer_options options_;
  std::unordered_map<std::string, reply> replies_;
  std::deque<user_message> users_;  // waiting for a store that was down
  conversation_writer_counters counters_;
  clock::time_point paused_until_{};
  std::chrono::milliseconds pause_{0};
};

}  // namespace sb::cluster
