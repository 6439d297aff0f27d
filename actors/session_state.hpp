#pragma once
// The session actor's state and the steps its three files share:
// session_actor.cpp (admission, the cascade, failures, the whole answer),
// session_stream.cpp (relaying a stream) and session_tool_loop.cpp (SPEC 9).
// Only those files include this header.

#include <caf/all.hpp>

#include "actors/session_actor.hpp"
#include "cluster/tool_audit.hpp"
#include "core/api_error.hpp"
#include "net/sse.hpp"
#include "net/upstream_client.hpp"
#include "providers/adapter.hpp"

namespace sb::actors::session {

using grace_atom = caf::atom_constant<caf::atom("sgrace")>;

/// The attempt in flight: which target, which key, what has come back.
struct attempt {
  std::uint64_t call_id = 0;
  std::shared_ptr<net::upstream_call> call;
  std::size_t slot = 0;
  std::string key_id;
  int number = 0;  // 1-based, the ledger row's `attempt`
  clock::time_point started{};
  std::int64_t streamed_chars = 0;  // content relayed, to estimate a cut-short stream
  int status = 0;
  net::header_list headers;
  std::string body;  // non-stream body, or an error body
  // Streaming, once a 2xx head arrived:
  net::sse_parser sse;
  std::unique_ptr<providers::stream_decoder> decoder;
};

struct session_state {
  std::shared_ptr<const gateway_context> ctx;
  chat_job job;
  std::shared_ptr<net::responder> out;

  std::size_t target_index = 0;
  int server_retries = 0;      // 5xx/network retries spent on the current target
  int key_walk = 0;            // key rotations spent on the current target
  std::chrono::milliseconds waited{0};  // time spent waiting for a ready key
  std::chrono::milliseconds waited_for_actor{0};  // for a provider actor being (re)started
  std::uint64_t wake_generation = 0;    // tells a live timer from a stale one
  std::uint64_t next_call_id = 1;
  int attempts_made = 0;
  nlohmann::json attempts = nlohmann::json::array();  // for all_providers_failed
  attempt cur;

  // Stream relay.
  std::string message_id;
  std::uint64_t seq = 0;  // of the last event sent: ids are <message_id>:1, :2, …
  // SPEC 7: the conversation log and the stream journal.
  bool logging = false;           // X-Conversation-Id and a conversation actor
  bool journaling = false;        // logging a stream: every event to the journal
  cluster::message_key reply_key; // the assistant message
  bool reply_open = false;        // conv_start sent, conv_finish not yet
  bool journal_open = false;      // events journaled, journal_finish not yet
  bool replayed = false;          // resume: the stored text went out first
  bool detached = false;          // the client left; the upstream runs on for the grace
  bool stream_started = false;  // head sent: no fall-through from here on
  std::vector<providers::relay_chunk> held;  // role-only chunks held until real content
  bool answered = false;

  // SPEC 9: the tool loop (ADR-0013), when the job names gateway tools.
  struct tool_round {
    int rounds = 0;                  // model answers so far (across a pause)
    int tools_run = 0;               // endpoint calls made by this session
    nlohmann::json completion;       // the model's last answer (OpenAI shape)
    nlohmann::json calls = nlohmann::json::array();  // this round's tool_calls
    std::size_t next = 0;            // the call being handled
    // The endpoint call in flight.
    std::uint64_t call_id = 0;
    std::shared_ptr<net::upstream_call> call;
    const tools::tool_definition* def = nullptr;
    int status = 0;
    std::string body;
    bool too_big = false;
    // A sensitive call a person approved: its audit record, written again
    // with the tool's outcome once the endpoint answered.
    std::optional<cluster::tool_audit_record> audit;
    // Streaming (ADR-0013): the round being streamed, reset by each attempt.
    struct streamed_round {
      std::string text;                               // content relayed this round
      nlohmann::json calls = nlohmann::json::array();  // tool_calls assembled from deltas
      std::vector<providers::relay_chunk> call_chunks;  // relayed only if the loop ends here
      nlohmann::json finish_reason;                    // null until the round's finish chunk
      bool sent_content = false;  // content reached the client: no fall-through this round
    } round;
    bool role_sent = false;  // one role delta per client stream, not one per round
    providers::token_usage total;  // summed over rounds, for include_usage
  } loop;

  // Metering: what the quota reserved, and what the rows billed so far.
  std::optional<cluster::quota_reservation> reservation;
  cluster::quota_amount billed;

  static inline const char* name = "session";

  void end_reply(cluster::message_status status) {
    if (reply_open) caf::anon_send(ctx->conversations, conv_finish_atom::value, reply_key, status);
    if (journal_open) caf::anon_send(ctx->journal, journal_finish_atom::value, message_id, status);
    reply_open = journal_open = false;
  }

  ~session_state();
};

using self_ptr = caf::stateful_actor<session_state>*;

inline const target& current_target(session_state& st) { return st.job.targets[st.target_index]; }

// --- shared steps (session_actor.cpp) --------------------------------------

net::header_list response_headers(const session_state& st, const char* content_type);
/// Answers `e` (an error envelope plus `extra` fields) and stops the session.
void answer_error(self_ptr self, const api_error& e, const nlohmann::json& extra = {});
/// Asks the current target's provider for a key and acts on the grant.
void walk(self_ptr self);
void report(self_ptr self, int status, bool ok, providers::failure_kind kind);
void write_row(session_state& st, cluster::usage_status status, const providers::token_usage& u);
void meter_success(session_state& st, const providers::token_usage& u);
providers::token_usage usage_so_far(const attempt& a);
cluster::message_origin origin_of(const session_state& st);
std::int64_t unix_now();

// --- the stream relay (session_stream.cpp) ---------------------------------

/// false: the session stopped (slow client); the caller returns at once.
bool relay_chunks(self_ptr self, std::vector<providers::relay_chunk>& chunks);
void finish_stream(self_ptr self);
/// The stream's end: the reply logged complete, `data: [DONE]`, the session stops.
void close_stream(self_ptr self);
/// Cancels the attempt in flight, if any, and meters it `cancelled`.
void cancel_upstream(session_state& st);

// --- the tool loop (session_tool_loop.cpp) ---------------------------------

/// The model answered in a loop request. true: the loop goes on (a tool runs,
/// the loop pauses or the next round starts); false: `completion` is the answer.
bool continue_tool_loop(self_ptr self, nlohmann::json& completion);
/// A session resuming a paused loop: the decision applies, the loop goes on.
void resume_tool_loop(self_ptr self);
/// News of the tool endpoint call in flight.
void on_tool_event(self_ptr self, upstream_event& ev);

// --- the tool loop, streamed (session_tool_stream.cpp) ---------------------

/// In a loop request, wraps the attempt's decoder so that content reaches
/// the client while tool-call deltas, finish and usage are held for the
/// round's end; otherwise returns `d` as is.
std::unique_ptr<providers::stream_decoder> for_tool_loop(session_state& st,
                                                         std::unique_ptr<providers::stream_decoder> d);
/// A streamed round ended well (metered). true: the caller is done (the loop
/// goes on, paused, or the client was dropped); false: the closing chunks
/// are out, the caller ends the stream.
bool handle_streamed_round(self_ptr self, const providers::token_usage& usage);
/// The chunk a paused streamed loop ends with: the round's tool calls,
/// finish_reason "tool_calls" and `gateway` (pending_confirmation …).
nlohmann::json pause_chunk(session_state& st, const nlohmann::json& gateway);
/// The `id` every chunk of a loop's client stream carries.
std::string stream_id(const session_state& st);

}  // namespace sb::actors::session
