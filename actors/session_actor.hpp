#pragma once
// One actor per client chat request. It walks the request's targets through
// SPEC section 5's table, relays the answer (whole or streamed) to the
// client's responder, and owns everything it starts: when the client goes
// away it closes the upstream call, cancels its timers and stops.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/gateway_context.hpp"
#include "actors/tool_loop.hpp"
#include "cluster/quota_store.hpp"
#include "actors/messages.hpp"
#include "core/chat_body.hpp"
#include "core/target.hpp"
#include "net/http_server.hpp"

namespace sb::actors {

/// A validated chat request, ready for the cascade.
struct chat_job {
  std::string request_id;
  /// The client's OpenAI request, gateway-only fields removed. While it is
  /// the client's text unchanged, an OpenAI-format upstream is sent the
  /// client's members as written and no tree is ever built (chat_body).
  chat_body body;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage as the client asked
  std::vector<target> targets;
  std::string workspace;
  std::string user;
  net::header_list extra_headers;  // added to the response (e.g. quota, prompt)
  std::string prompt_id;           // the rendered prompt, for the usage rows
  int prompt_version = 0;          // 0 = no prompt
  // The hard cap (SPEC 6): reserved before the first upstream call, settled
  // to the real usage when the session ends. No caps = not metered.
  cluster::quota_caps caps;
  cluster::quota_amount reservation;   // prompt estimate + max_tokens, priced
  std::int64_t prompt_estimate = 0;    // for rows of streams cut short without usage
  clock::time_point started = clock::now();
  // SPEC 7: X-Conversation-Id (empty = not logged). The request's last user
  // message and the reply are logged in the workspace's conversation; a
  // streamed reply's SSE events are journaled for reattach.
  std::string conversation_id;
  /// POST …/messages/{id}/resume: continue this partial assistant message.
  struct resume_from {
    std::string message_id;
    std::string text;            // the stored partial text, replayed first
    std::uint64_t last_seq = 0;  // the journal's last event: the resume numbers on from it
  };
  std::optional<resume_from> resume;
  /// SPEC 9: `gateway_tools` named registry tools; the session runs the tool
  /// loop (ADR-0013). Also set when a paused loop resumes after a decision.
  std::optional<tool_loop_job> tools;
};

/// Spawns the session; it answers on `out` and stops by itself.
caf::actor spawn_session(caf::actor_system& sys, std::shared_ptr<const gateway_context> ctx,
                         chat_job job, std::shared_ptr<net::responder> out);

}  // namespace sb::actors
