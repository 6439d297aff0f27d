#pragma once
// The HTTP surface of SPEC section 4: which path and method go to which
// endpoint. Endpoints live one per file beside this one.

#include <functional>
#include <memory>
#include <string>

#include "actors/gateway_context.hpp"
#include "actors/tool_loop.hpp"
#include "cluster/stream_journal.hpp"
#include "core/api_error.hpp"
#include "core/live_snapshot.hpp"
#include "prompts/prompt_library.hpp"
#include "tools/tool_registry.hpp"
#include "net/http_server.hpp"

namespace caf {
class actor_system;
}
namespace sb::cluster {
class rollout_notifier;
}

namespace sb {

/// What every endpoint may use. Lives as long as the gateway.
struct app_context {
  caf::actor_system* system = nullptr;
  std::shared_ptr<const actors::gateway_context> gateway;
  live_snapshot<prompts::prompt_library>* prompts = nullptr;
  live_snapshot<tools::tool_registry>* tools = nullptr;
  /// SPEC 7: the stream journal, for reattaching readers (their own connection).
  cluster::stream_journal_factory journals;
  cluster::rollout_notifier* rollouts = nullptr;  // cluster mode (REDIS_URL) only
  /// SPEC 9: tool loops paused before a sensitive call (ADR-0013).
  std::shared_ptr<actors::confirmation_store> confirmations;
  std::chrono::milliseconds confirmation_ttl = actors::default_confirmation_ttl;
};

void route(const app_context& app, net::http_request req, std::shared_ptr<net::responder> out);

// The endpoints.
class observed_responder;
void handle_chat_completions(const app_context& app, net::http_request& req,
                             std::shared_ptr<observed_responder> out);
void handle_models(const app_context& app, net::http_request& req,
                   std::shared_ptr<net::responder> out);
void handle_readyz(const app_context& app, std::shared_ptr<net::responder> out);
void handle_usage(const app_context& app, net::http_request& req, std::shared_ptr<net::responder> out);
void handle_usage_events(const app_context& app, net::http_request& req,
                         std::shared_ptr<net::responder> out);
void handle_admin_prompt_rollout(const app_context& app, net::http_request& req,
                                  std::shared_ptr<net::responder> out, const std::string& name);
void handle_conversation_get(const app_context& app, net::http_request& req,
                             std::shared_ptr<net::responder> out, const std::string& conversation_id);
void handle_message_stream(const app_context& app, net::http_request& req,
                           std::shared_ptr<net::responder> out, const std::string& conversation_id,
                           const std::string& message_id);
void handle_message_resume(const app_context& app, net::http_request& req,
                           std::shared_ptr<net::responder> out, const std::string& conversation_id,
                           const std::string& message_id);
void handle_prompt_stats(const app_context& app, net::http_request& req,
                         std::shared_ptr<net::responder> out, const std::string& name);
void handle_feedback(const app_context& app, net::http_request& req, std::shared_ptr<net::responder> out);
void handle_tool_confirmation(const app_context& app, net::http_request& req,
                              std::shared_ptr<net::responder> out, const std::string& id);
void handle_tool_confirmations_list(const app_context& app, net::http_request& req,
                                    std::shared_ptr<net::responder> out);
void handle_admin_keys(const app_context& app, net::http_request& req,
                       std::shared_ptr<net::responder> out);

/// Answers an api_error in the envelope (with x-request-id when given).
void respond_error(net::responder& out, const api_error& e, const std::string& request_id = {});
void respond_json(net::responder& out, int status, std::string body,
                  const std::string& request_id = {});

}  // namespace sb
