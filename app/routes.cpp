#include "app/routes.hpp"

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/observed_responder.hpp"
#include "core/workspace_auth.hpp"
#include "metrics/gateway_metrics.hpp"

namespace sb {

void respond_json(net::responder& out, int status, std::string body, const std::string& request_id) {
  net::header_list h{{"content-type", "application/json"}};
  if (!request_id.empty()) h.emplace_back("x-request-id", request_id);
  out.respond(status, std::move(h), std::move(body));
}

void respond_error(net::responder& out, const api_error& e, const std::string& request_id) {
  respond_json(out, e.status, e.to_body(), request_id);
}

namespace {

bool admin_allowed(const app_context& app, net::http_request& req, net::responder& out) {
  auto token = bearer_token(req.header("authorization"));
  if (!token) {
    respond_error(out, unauthorized("The admin API needs `Authorization: Bearer <GATEWAY_ADMIN_TOKEN>`."));
    return false;
  }
  if (!is_admin(*app.gateway->config, *token)) {
    respond_error(out, forbidden("This token may not use the admin API."));
    return false;
  }
  return true;
}

}  // namespace

void route(const app_context& app, net::http_request req, std::shared_ptr<net::responder> out) {
  const auto& path = req.path;
  auto only = [&](const char* method) {
    if (req.method == method) return true;
    respond_error(*out, method_not_allowed(req.method, path));
    return false;
  };

  if (path == "/v1/chat/completions") {
    if (!only("POST")) return;
    auto observed = std::make_shared<observed_responder>(out, app.gateway->metrics);
    return handle_chat_completions(app, req, std::move(observed));
  }
  if (path == "/v1/models") {
    if (only("GET")) handle_models(app, req, out);
    return;
  }
  if (path == "/healthz") {
    if (only("GET")) respond_json(*out, 200, R"({"status":"ok"})");
    return;
  }
  if (path == "/readyz") {
    if (only("GET")) handle_readyz(app, out);
    return;
  }
  if (path == "/v1/usage") {
    if (only("GET")) handle_usage(app, req, out);
    return;
  }
  if (path == "/v1/usage/events") {
    if (only("GET")) handle_usage_events(app, req, out);
    return;
  }
  if (path == "/v1/feedback") {
    if (only("POST")) handle_feedback(app, req, out);
    return;
  }
  // /v1/prompts/{name}/stats (a name never holds '/')
  static constexpr std::string_view stats_prefix = "/v1/prompts/";
  static constexpr std::string_view stats_suffix = "/stats";
  if (path.size() > stats_prefix.size() + stats_suffix.size() &&
      path.compare(0, stats_prefix.size(), stats_prefix) == 0 &&
      path.compare(path.size() - stats_suffix.size(), stats_suffix.size(), stats_suffix) == 0) {
    auto name = path.substr(stats_prefix.size(), path.size() - stats_prefix.size() - stats_suffix.size());
    if (name.find('/') == std::string::npos) {
      if (only("GET")) handle_prompt_stats(app, req, out, name);
      return;
    }
  }
  // SPEC 9: /v1/tool-confirmations[/{id}]
  if (path == "/v1/tool-confirmations") {
    if (only("GET")) handle_tool_confirmations_list(app, req, out);
    return;
  }
  static constexpr std::string_view confirmations_prefix = "/v1/tool-confirmations/";
  if (path.size() > confirmations_prefix.size() &&
      path.compare(0, confirmations_prefix.size(), confirmations_prefix) == 0) {
    auto id = path.substr(confirmations_prefix.size());
    if (id.find('/') == std::string::npos) {
      if (only("POST")) handle_tool_confirmation(app, req, out, id);
      return;
    }
  }
  if (path == "/metrics") {
    if (!only("GET")) return;
    out->respond(200, {{"content-type", "text/plain; version=0.0.4; charset=utf-8"}},
                 app.gateway->metrics->serialize());
    return;
  }
  if (path == "/admin/keys") {
    if (only("GET") && admin_allowed(app, req, *out)) handle_admin_keys(app, req, out);
    return;
  }
  // SPEC 7: /v1/conversations/{id}[/messages/{message_id}/(stream|resume)]
  static constexpr std::string_view conversations_prefix = "/v1/conversations/";
  if (path.size() > conversations_prefix.size() &&
      path.compare(0, conversations_prefix.size(), conversations_prefix) == 0) {
    std::vector<std::string> parts;
    std::size_t pos = conversations_prefix.size();
    for (;;) {
      auto slash = path.find('/', pos);
      parts.push_back(path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos));
      if (slash == std::string::npos) break;
      pos = slash + 1;
    }
    bool ids_ok = std::none_of(parts.begin(), parts.end(), [](auto& p) { return p.empty(); });
    if (ids_ok && parts.size() == 1) {
      if (only("GET")) handle_conversation_get(app, req, out, parts[0]);
      return;
    }
    if (ids_ok && parts.size() == 4 && parts[1] == "messages" && parts[3] == "stream") {
      if (only("GET")) handle_message_stream(app, req, out, parts[0], parts[2]);
      return;
    }
    if (ids_ok && parts.size() == 4 && parts[1] == "messages" && parts[3] == "resume") {
      if (only("POST")) handle_message_resume(app, req, out, parts[0], parts[2]);
      return;
    }
  }
  // /admin/prompts/{name}/rollout
  static constexpr std::string_view prompts_prefix = "/admin/prompts/";
  static constexpr std::string_view rollout_suffix = "/rollout";
  if (path.size() > prompts_prefix.size() + rollout_suffix.size() &&
      path.compare(0, prompts_prefix.size(), prompts_prefix) == 0 &&
      path.compare(path.size() - rollout_suffix.size(), rollout_suffix.size(), rollout_suffix) == 0) {
    auto name = path.substr(prompts_prefix.size(),
                            path.size() - prompts_prefix.size() - rollout_suffix.size());
    if (only("PUT") && admin_allowed(app, req, *out)) handle_admin_prompt_rollout(app, req, out, name);
    return;
  }
  respond_error(*out, not_found_route(req.method, path));
}

}  // namespace sb
