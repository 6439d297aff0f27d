// Relaying a streamed answer: role-only chunks held until real content (so
// a failure before the first token can still fall through), each event
// framed for the client and journaled for a reattach, back-pressure.
#include <nlohmann/json.hpp>

#include "actors/session_state.hpp"
#include "core/log.hpp"
#include "metrics/gateway_metrics.hpp"

namespace sb::actors::session {

using providers::failure_kind;

namespace {

/// One SSE event: framed for the client (unless it left) and journaled for
/// a reattach (a logged stream). The id is <message_id>:<seq>.
void emit(session_state& st, std::string data, std::string& frames) {
  auto seq = ++st.seq;
  if (!st.detached) net::append_sse_frame(frames, st.message_id, seq, data);
  if (st.journaling) {
    st.journal_open = true;
    caf::anon_send(st.ctx->journal, journal_append_atom::value, st.message_id, seq, std::move(data));
  }
}

void start_stream(self_ptr self, std::string& frames) {
  auto& st = self->state;
  st.stream_started = true;
  st.ctx->metrics->stream_started();
  st.ctx->metrics->time_to_first_token(
      current_target(st).provider,
      std::chrono::duration<double>(clock::now() - st.job.started).count());
  auto h = response_headers(st, "text/event-stream");
  h.emplace_back("cache-control", "no-cache");
  st.out->start_stream(200, std::move(h));
  if (st.logging) {
    // A resume's row exists (its text kept); this names who continues it.
    caf::anon_send(st.ctx->conversations, conv_start_atom::value, st.reply_key, origin_of(st),
                   std::string());
    st.reply_open = true;
  }
  if (st.job.resume && !st.replayed) {
    // The stored text first, as one chunk: the client sees one message.
    st.replayed = true;
    nlohmann::json replay = {
        {"id", "chatcmpl-" + st.job.request_id.substr(4)},
        {"object", "chat.completion.chunk"},
        {"created", unix_now()},
        {"model", current_target(st).model},
        {"choices",
         {{{"index", 0},
           {"delta", {{"role", "assistant"}, {"content", st.job.resume->text}}},
           {"finish_reason", nullptr}}}}};
    emit(st, replay.dump(), frames);
  }
}


/// Back-pressure: the client left more than the bound unread. Nothing more
/// is queued for it: the upstream is cancelled (metered), the reply stays
/// partial (resumable), and the server's write-stall timeout drops the
/// connection if the client never reads the end.
void drop_slow_client(self_ptr self) {
  auto& st = self->state;
  log::warn("request " + st.job.request_id + ": client left " +
            std::to_string(st.out->pending_bytes()) + " bytes unread; stream cut");
  st.ctx->metrics->slow_client_dropped();
  api_error e{503, "server_error", "client_too_slow",
              "The stream was cut because the client read too slowly.", std::nullopt};
  st.out->write(net::sse_named_frame("", "error", e.to_body()));
  st.out->finish();
  cancel_upstream(st);
  st.answered = true;
  self->quit();
}

/// A chunk's text for the client: the upstream's own when unchanged, else dumped.
std::string chunk_text(providers::relay_chunk& c) {
  return c.raw.empty() ? c.chunk.dump() : std::move(c.raw);
}

}  // namespace

void cancel_upstream(session_state& st) {
  if (!st.cur.call) return;
  st.cur.call->cancel();
  st.cur.call.reset();
  st.ctx->metrics->upstream_cancelled();
  auto& t = current_target(st);
  st.ctx->metrics->upstream_attempt(t.provider, t.model, st.cur.key_id, "cancelled");
  write_row(st, cluster::usage_status::cancelled, usage_so_far(st.cur));
}

/// false: the session stopped (slow client); the caller returns at once.
bool relay_chunks(self_ptr self, std::vector<providers::relay_chunk>& chunks) {
  auto& st = self->state;
  std::string frames;
  std::string text;
  for (auto& c : chunks) {
    if (!st.stream_started) {
      if (!c.facts.content) {
        st.held.push_back(std::move(c));
        continue;
      }
      start_stream(self, frames);
      for (auto& h : st.held) emit(st, chunk_text(h), frames);
      st.held.clear();
    }
    st.cur.streamed_chars += c.facts.content_chars;
    if (st.reply_open) text += c.facts.text;
    emit(st, chunk_text(c), frames);
  }
  if (!text.empty())
    caf::anon_send(st.ctx->conversations, conv_delta_atom::value, st.reply_key, std::move(text));
  if (st.detached || frames.empty()) return true;
  st.out->write(std::move(frames));
  if (st.out->pending_bytes() > st.ctx->max_stream_backlog_bytes) {
    drop_slow_client(self);
    return false;
  }
  return true;
}

void finish_stream(self_ptr self) {
  auto& st = self->state;
  auto usage = st.cur.decoder->usage();
  st.cur.call.reset();
  report(self, st.cur.status, true, failure_kind::server_error);
  meter_success(st, usage);
  if (st.job.tools && handle_streamed_round(self, usage)) return;  // the loop goes on
  if (!st.stream_started) {
    // Nothing but role chunks came: still a valid (empty) answer.
    std::string frames;
    start_stream(self, frames);
    for (auto& h : st.held) emit(st, chunk_text(h), frames);
    if (!frames.empty()) st.out->write(std::move(frames));
  }
  close_stream(self);
}

void close_stream(self_ptr self) {
  auto& st = self->state;
  st.end_reply(cluster::message_status::complete);
  st.answered = true;
  if (!st.detached) {
    st.out->write("data: [DONE]\n\n");
    st.out->finish();
  }
  self->quit();
}

}  // namespace sb::actors::session
