#pragma once
// The stream journal shared by every node: one Redis stream per message,
// `sb:journal:<message_id>`, so a client can reattach on any node.
//
// Entry ids carry the seq, so Redis itself orders and de-duplicates:
//   "<seq>-0"  an event, field d = the data (XADD refuses an id not above
//              the last: a retried append is a no-op)
//   "<seq>-1"  the end marker after event <seq>, field end = the status;
//              a later "<seq+1>-0" (a resume) sorts after it and reopens
// Readers: XRANGE from "<after>-1" for what was missed, XREAD BLOCK after
// "<after>-0" for the live rest; XREAD returns at once when entries are
// already there, so nothing between the two can be missed.
// Bounds: XADD MAXLEN ~ max_events_per_message; PEXPIRE abandoned_after on
// every append (one Lua call with the XADD), grace on finish.
//
// One connection, NOT thread-safe: one instance per thread or actor.

#include "cluster/redis_connection.hpp"
#include "cluster/stream_journal.hpp"

namespace sb::cluster {

class redis_stream_journal final : public stream_journal {
 public:
  /// Does not connect yet. The connection's command timeout is the
  /// options' plus max_block, so a blocking read is not taken for a dead
  /// socket.
  redis_stream_journal(redis_endpoint endpoint, stream_journal_options options);

  store_status append(const std::string& message_id, std::uint64_t seq,
                      const std::string& data) override;
  store_status finish(const std::string& message_id, message_status status) override;
  store_result<journal_read> read_after(const std::string& message_id, std::uint64_t after_seq,
                                        std::size_t max) override;
  store_result<journal_read> wait_for_more(const std::string& message_id, std::uint64_t after_seq,
                                           std::chrono::milliseconds timeout,
                                           std::size_t max) override;
  [[nodiscard]] const char* backend() const override { return "redis"; }

  static std::string key_of(const std::string& message_id);

 private:
  /// Turns XRANGE/XREAD entries (ids > "<after>-0") into an answer; `asked`
  /// is the COUNT sent, to tell "the range ended" from "COUNT cut it".
  store_result<journal_read> to_read(const std::string& message_id, std::uint64_t after_seq,
                                     const redisReply* entries, std::size_t max, std::size_t asked);

  stream_journal_options options_;
  redis_connection conn_;
};

}  // namespace sb::cluster
