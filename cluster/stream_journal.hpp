#pragma once
// The SSE events of each streaming assistant message, kept for a while so a
// client that lost its connection can reattach (SPEC section 7): it sends
// Last-Event-ID "<message_id>:<seq>", reads what came after seq, then follows
// the live rest. Events are keyed by message id alone: the caller checks the
// message belongs to the workspace (conversation_store::get_message) first.
//
// Writers number a message's events 1, 2, 3, … (the seq of the SSE id);
// an event whose seq is not above the last one is a retry and is ignored.
// A finished stream is kept `grace`, a stream that stops being written
// without a finish (its node died) `abandoned_after`; then it is unknown.
// An append after finish reopens the stream (a resume continues the message).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cluster/conversation_message.hpp"
#include "cluster/redis_connection.hpp"
#include "cluster/store_error.hpp"

namespace sb::cluster {

struct journal_event {
  std::uint64_t seq = 0;
  std::string data;  // the SSE frame's data field, as sent
};

enum class journal_state : std::uint8_t {
  unknown,   // nothing journaled under this id: not started yet, or expired
  live,      // more may come
  finished,  // the stream ended and `events` reach its end: stop reading
};
const char* to_string(journal_state s);

struct journal_read {
  std::vector<journal_event> events;  // seq > after_seq, ascending, no gaps the writer did not leave
  journal_state state = journal_state::unknown;
  message_status final_status = message_status::complete;  // when finished
  /// Events after after_seq were dropped (memory bound): this reader cannot
  /// get a gapless replay; `events` start after the hole.
  bool truncated = false;
};

struct stream_journal_options {
  std::chrono::milliseconds grace{30000};             // after finish
  std::chrono::milliseconds abandoned_after{600000};  // after the last append, unfinished
  std::size_t max_events_per_message = 100000;        // older events are dropped first
  std::size_t max_bytes_per_message = 4u << 20;       // local only
  std::size_t max_total_bytes = 64u << 20;            // local only: whole streams go
  std::chrono::milliseconds max_block{2000};          // redis: longest single XREAD BLOCK
  redis_options redis;                                // redis: connect/command timeouts
};

class stream_journal {
 public:
  virtual ~stream_journal() = default;

  /// Adds one event (ignored when seq is not above the last one).
  virtual store_status append(const std::string& message_id, std::uint64_t seq,
                              const std::string& data) = 0;
  /// The stream ended with `status` (complete or partial); readers that
  /// reach the end see state finished. Idempotent.
  virtual store_status finish(const std::string& message_id, message_status status) = 0;
  /// At most `max` events after `after_seq`, at once.
  virtual store_result<journal_read> read_after(const std::string& message_id,
                                                std::uint64_t after_seq, std::size_t max) = 0;
  /// As read_after, but while nothing is there yet (and the stream is not
  /// finished) waits up to `timeout` for it. Blocks: detached actors only.
  /// An empty live/unknown answer means "nothing yet": ask again.
  virtual store_result<journal_read> wait_for_more(const std::string& message_id,
                                                   std::uint64_t after_seq,
                                                   std::chrono::milliseconds timeout,
                                                   std::size_t max) = 0;
  /// "local" or "redis", for logs.
  [[nodiscard]] virtual const char* backend() const = 0;
};

/// A journal for the calling thread: the local journal hands every caller
/// the same (thread-safe) instance; the Redis one a new connection each.
using stream_journal_factory = std::function<std::shared_ptr<stream_journal>()>;

}  // namespace sb::cluster
