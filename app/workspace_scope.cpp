#include "app/workspace_scope.hpp"

#include "cluster/billing_period.hpp"
#include "core/workspace_auth.hpp"

namespace sb {

std::variant<std::string, api_error> readable_workspace_of(const app_context& app,
                                                           net::http_request& req,
                                                           const query_params& q) {
  const auto& cfg = *app.gateway->config;
  auto token = bearer_token(req.header("authorization"));
  if (token && is_admin(cfg, *token)) {
    auto ws = q.get("workspace");
    if (!ws || ws->empty())
      return invalid_request("The admin token reads any workspace: add &workspace=ID.", "workspace");
    if (!cfg.open_mode() && !cfg.find_workspace(*ws) && *ws != "default")
      return api_error{404, "invalid_request_error", "workspace_not_found",
                       "No workspace '" + *ws + "' is configured.", "workspace"};
    return *ws;
  }
  auto who = authenticate(cfg, req.header("authorization"));
  if (auto* e = std::get_if<api_error>(&who)) return *e;
  auto own = std::get<const workspace_config*>(who)->id;
  if (auto ws = q.get("workspace"); ws && *ws != own)
    return forbidden("A workspace token reads only its own workspace ('" + own + "').");
  return own;
}

std::variant<std::string, api_error> own_workspace_of(const app_context& app, net::http_request& req) {
  const auto& cfg = *app.gateway->config;
  auto token = bearer_token(req.header("authorization"));
  // In open mode every caller is "default", the admin too: nothing to refuse.
  if (!cfg.open_mode() && token && is_admin(cfg, *token))
    return forbidden("Feedback is recorded by the workspace that made the request: use its token.");
  auto who = authenticate(cfg, req.header("authorization"));
  if (auto* e = std::get_if<api_error>(&who)) return *e;
  return std::get<const workspace_config*>(who)->id;
}

std::variant<std::string, api_error> period_of_query(const query_params& q) {
  auto p = q.get("period");
  if (!p || p->empty()) return cluster::current_period();
  if (!cluster::parse_period(*p))
    return invalid_request("`period` must be a calendar month as YYYY-MM, e.g. 2026-11.", "period");
  return *p;
}

api_error store_api_error(const std::string& what, const cluster::store_error& e) {
  if (e.code == cluster::store_errc::bad_input) return invalid_request(e.message);
  return {503, "server_error", "store_unavailable", what + " cannot be reached now: " + e.message,
          std::nullopt};
}

}  // namespace sb
