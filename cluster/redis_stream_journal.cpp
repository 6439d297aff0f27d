#include "cluster/redis_stream_journal.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cstdlib>

namespace sb::cluster {
namespace {

// XADD and its TTL in one round trip. An id not above the stream's last is a
// retried append (or one after its end marker): a no-op, not an error.
const char* const append_lua = R"lua(
local ok = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], ARGV[1], 'd', ARGV[2])
if type(ok) == 'table' and ok.err then
  if string.find(ok.err, 'equal or smaller', 1, true) then return 0 end
  return ok
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
)lua";

// The end marker goes right after the last event: "<last seq>-1". A stream
// that already ends with a marker keeps it (the first finish wins).
const char* const finish_lua = R"lua(
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local seq = '0'
if #last > 0 then
  local id = last[1][1]
  local dash = string.find(id, '-', 1, true)
  if string.sub(id, dash + 1) ~= '0' then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 0
  end
  seq = string.sub(id, 1, dash - 1)
end
redis.call('XADD', KEYS[1], seq .. '-1', 'end', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
)lua";

redis_options with_block(redis_options o, std::chrono::milliseconds max_block) {
  o.command_timeout += max_block;
  return o;
}

struct entry_id {
  std::uint64_t seq = 0;
  bool marker = false;
};

entry_id parse_id(const redisReply* id) {
  std::string text(id->str, id->len);
  auto dash = text.find('-');
  entry_id e;
  e.seq = std::strtoull(text.c_str(), nullptr, 10);
  e.marker = dash != std::string::npos && text.compare(dash + 1, std::string::npos, "0") != 0;
  return e;
}

/// The value of the entry's first field (d or end).
std::string first_value(const redisReply* entry) {
  const redisReply* fields = entry->element[1];
  if (fields->type != REDIS_REPLY_ARRAY || fields->elements < 2) return {};
  return std::string(fields->element[1]->str, fields->element[1]->len);
}

bool is_entry(const redisReply* e) {
  return e && e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
         e->element[0]->type == REDIS_REPLY_STRING;
}

store_error bad_reply(const char* what) {
  return make_store_error(store_errc::query_failed, std::string("redis ") + what + ": unexpected reply");
}

}  // namespace

redis_stream_journal::redis_stream_journal(redis_endpoint endpoint, stream_journal_options options)
    : options_(options),
      conn_(std::move(endpoint), with_block(options.redis, options.max_block)) {}

std::string redis_stream_journal::key_of(const std::string& message_id) {
  return "sb:journal:" + message_id;
}

store_status redis_stream_journal::append(const std::string& message_id, std::uint64_t seq,
                                          const std::string& data) {
  if (seq == 0) return make_store_error(store_errc::bad_input, "journal seq starts at 1");
  auto r = conn_.command({"EVAL", append_lua, "1", key_of(message_id), std::to_string(seq) + "-0",
                          data, std::to_string(options_.abandoned_after.count()),
                          std::to_string(options_.max_events_per_message)},
                         /*idempotent=*/true);
  if (!r) return r.error();
  return std::nullopt;
}

store_status redis_stream_journal::finish(const std::string& message_id, message_status status) {
  auto r = conn_.command({"EVAL", finish_lua, "1", key_of(message_id), to_string(status),
                          std::to_string(std::max<std::int64_t>(1, options_.grace.count()))},
                         /*idempotent=*/true);
  if (!r) return r.error();
  return std::nullopt;
}

store_result<journal_read> redis_stream_journal::to_read(const std::string& message_id,
                                                         std::uint64_t after_seq,
                                                         const redisReply* entries,
                                                         std::size_t max, std::size_t asked) {
  journal_read out;
  if (entries->elements == 0) {
    auto exists = conn_.command({"EXISTS", key_of(message_id)}, true);
    if (!exists) return exists.error();
    out.state = (*exists)->integer ? journal_state::live : journal_state::unknown;
    return out;
  }
  out.state = journal_state::live;
  bool cut = false, ends_with_marker = false;
  for (std::size_t i = 0; i < entries->elements; ++i) {
    const redisReply* e = entries->element[i];
    if (!is_entry(e)) return bad_reply("stream entry");
    auto id = parse_id(e->element[0]);
    if (id.marker) {
      // A marker followed by events is an earlier end, reopened by a resume.
      ends_with_marker = true;
      out.final_status = parse_message_status(first_value(e)).value_or(message_status::partial);
      continue;
    }
    if (out.events.size() == max) {
      cut = true;
      break;
    }
    ends_with_marker = false;
    out.events.push_back({id.seq, first_value(e)});
  }
  if (!cut && ends_with_marker && entries->elements < asked) out.state = journal_state::finished;
  if (!out.events.empty() && out.events.front().seq > after_seq + 1) {
    // A hole right after after_seq: trimmed by MAXLEN when the stream itself
    // now starts there (writers start at 1), else a gap the writer left.
    auto first = conn_.command({"XRANGE", key_of(message_id), "-", "+", "COUNT", "1"}, true);
    if (!first) return first.error();
    if ((*first)->type == REDIS_REPLY_ARRAY && (*first)->elements == 1 &&
        is_entry((*first)->element[0]))
      out.truncated = parse_id((*first)->element[0]->element[0]).seq == out.events.front().seq;
  }
  return out;
}

store_result<journal_read> redis_stream_journal::read_after(const std::string& message_id,
                                                            std::uint64_t after_seq,
                                                            std::size_t max) {
  const std::size_t asked = std::max<std::size_t>(max, 1) + 1;
  // From "<after>-1": the end marker right after the last event read counts.
  auto r = conn_.command({"XRANGE", key_of(message_id), std::to_string(after_seq) + "-1", "+",
                          "COUNT", std::to_string(asked)},
                         true);
  if (!r) return r.error();
  if ((*r)->type != REDIS_REPLY_ARRAY) return bad_reply("XRANGE");
  return to_read(message_id, after_seq, r->get(), max, asked);
}

store_result<journal_read> redis_stream_journal::wait_for_more(const std::string& message_id,
                                                               std::uint64_t after_seq,
                                                               std::chrono::milliseconds timeout,
                                                               std::size_t max) {
  const std::size_t asked = std::max<std::size_t>(max, 1) + 1;
  // BLOCK 0 would be forever; the cap keeps the call inside the socket timeout.
  const auto block = std::clamp(timeout, std::chrono::milliseconds(1), options_.max_block);
  auto r = conn_.command({"XREAD", "COUNT", std::to_string(asked), "BLOCK",
                          std::to_string(block.count()), "STREAMS", key_of(message_id),
                          std::to_string(after_seq) + "-0"},
                         true);
  if (!r) return r.error();
  static const redisReply no_entries = [] {
    redisReply none{};
    none.type = REDIS_REPLY_ARRAY;
    return none;
  }();
  if ((*r)->type == REDIS_REPLY_NIL) return to_read(message_id, after_seq, &no_entries, max, asked);
  // [[key, entries]]
  if ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != 1 ||
      (*r)->element[0]->type != REDIS_REPLY_ARRAY || (*r)->element[0]->elements != 2)
    return bad_reply("XREAD");
  const redisReply* entries = (*r)->element[0]->element[1];
  if (entries->type != REDIS_REPLY_ARRAY) return bad_reply("XREAD");
  return to_read(message_id, after_seq, entries, max, asked);
}

}  // namespace sb::cluster
