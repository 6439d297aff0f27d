// SPEC 9, ADR-0013: a person's decision on a paused tool loop.
//
//   POST /v1/tool-confirmations/{id} {"approve": true|false, "approver": "..."}
//     runs the sensitive call (or tells the model it was refused) and answers
//     the finished completion (or the next pending confirmation);
//     404 unknown id or another workspace's, 409 already decided,
//     410 expired (kept an hour after expiry, then 404).
//   GET /v1/tool-confirmations?status=pending
//     the caller's workspace's undecided, unexpired confirmations.
// Both take a workspace token (open mode: "default"); the admin token is
// refused, as for feedback: the decision is the workspace's.

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/session_actor.hpp"
#include "app/query_string.hpp"
#include "app/routes.hpp"
#include "app/workspace_scope.hpp"
#include "cluster/billing_period.hpp"
#include "core/log.hpp"
#include "core/token_estimate.hpp"

namespace sb {
namespace {

constexpr std::size_t max_approver_bytes = 200;

api_error not_found_confirmation(const std::string& id) {
  return {404, "invalid_request_error", "confirmation_not_found",
          "No pending tool confirmation '" + id + "' in this workspace.", std::nullopt};
}

}  // namespace

void handle_tool_confirmations_list(const app_context& app, net::http_request& req,
                                    std::shared_ptr<net::responder> out) {
  auto ws = own_workspace_of(app, req);
  if (auto* e = std::get_if<api_error>(&ws)) return respond_error(*out, *e);
  auto q = parse_query(req.query);
  auto status = q.get("status").value_or("pending");
  if (status != "pending")
    return respond_error(*out, invalid_request("Only `status=pending` can be listed.", "status"));
  auto data = nlohmann::json::array();
  if (app.confirmations)
    for (auto& p : app.confirmations->pending(std::get<std::string>(ws), cluster::now_ms()))
      data.push_back(p.summary());
  respond_json(*out, 200, nlohmann::json{{"object", "list"}, {"data", data}}.dump());
}

void handle_tool_confirmation(const app_context& app, net::http_request& req,
                              std::shared_ptr<net::responder> out, const std::string& id) {
  auto ws = own_workspace_of(app, req);
  if (auto* e = std::get_if<api_error>(&ws)) return respond_error(*out, *e);
  auto workspace = std::get<std::string>(ws);
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return respond_error(*out, invalid_request("The body must be a JSON object: {\"approve\": true, "
                                               "\"approver\": \"name\"}.", std::nullopt, "invalid_json"));
  auto approve = body.find("approve");
  if (approve == body.end() || !approve->is_boolean())
    return respond_error(*out, invalid_request("`approve` must be true or false.", "approve"));
  auto approver = body.find("approver");
  if (approver == body.end() || !approver->is_string() || approver->get_ref<const std::string&>().empty() ||
      approver->get_ref<const std::string&>().size() > max_approver_bytes)
    return respond_error(*out, invalid_request("`approver` must name the person deciding (1-200 bytes).",
                                               "approver"));
  if (!app.confirmations) return respond_error(*out, not_found_confirmation(id));

  auto claimed = app.confirmations->claim(id, workspace, cluster::now_ms());
  if (auto* err = std::get_if<actors::confirmation_store::claim_error>(&claimed)) {
    using ce = actors::confirmation_store::claim_error;
    switch (*err) {
      case ce::not_found: return respond_error(*out, not_found_confirmation(id));
      case ce::already_used:
        return respond_error(*out, {409, "invalid_request_error", "confirmation_already_used",
                                    "Tool confirmation '" + id + "' was already decided.", std::nullopt});
      case ce::expired:
        return respond_error(*out, {410, "invalid_request_error", "confirmation_expired",
                                    "Tool confirmation '" + id + "' expired; send the request again.",
                                    std::nullopt});
      case ce::unavailable:
        return respond_error(*out, {503, "server_error", "confirmation_store_unavailable",
                                    "Tool confirmations cannot be read right now. Retry shortly.",
                                    std::nullopt});
    }
  }
  auto paused = std::get<actors::paused_loop>(std::move(claimed));
  auto& s = paused.state;
  const auto& cfg = *app.gateway->config;

  actors::chat_job job;
  job.request_id = s.value("request_id", "");
  job.body = s.value("body", nlohmann::json::object());
  for (auto& t : s.value("targets", nlohmann::json::array()))
    job.targets.push_back({t.value("provider", ""), t.value("model", "")});
  job.workspace = workspace;
  job.user = s.value("user", "anonymous");
  for (auto& h : s.value("extra_headers", nlohmann::json::array()))
    if (h.is_array() && h.size() == 2) job.extra_headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
  job.prompt_id = s.value("prompt_id", "");
  job.prompt_version = s.value("prompt_version", 0);

  actors::tool_loop_job tl;
  tl.registry = app.tools ? app.tools->get() : nullptr;
  tl.names = s.value("gateway_tools", std::vector<std::string>{});
  tl.confirmations = app.confirmations;
  tl.confirmation_ttl = app.confirmation_ttl;
  tl.approval = actors::tool_approval{paused.id, paused.tool_call_id, approve->get<bool>(),
                                      approver->get<std::string>()};
  tl.resume_state = std::move(s);
  job.tools = std::move(tl);

  // The caps as they are now; the reservation covers the next round (ADR-0013).
  for (auto& w : cfg.workspaces)
    if (w.id == workspace) {
      job.caps.tokens = cfg.token_cap_for(w);
      if (w.monthly_cost_cap_usd) job.caps.cost_micros = static_cast<std::int64_t>(*w.monthly_cost_cap_usd * 1e6);
    }
  job.prompt_estimate = estimate_prompt_tokens(job.body);
  std::int64_t answer_budget = cfg.quota.default_reservation_tokens;
  for (const char* k : {"max_completion_tokens", "max_tokens"})
    if (auto v = job.body.find(k); v != job.body.end() && v->is_number_integer()) answer_budget = v->get<std::int64_t>();
  job.reservation.tokens = job.prompt_estimate + answer_budget;
  if (!job.targets.empty()) {
    auto& first = job.targets.front();
    job.reservation.cost_micros =
        app.gateway->prices.cost(first.provider, first.model, job.prompt_estimate, answer_budget).micros;
  }
  log::info("tool confirmation " + paused.id + " (" + paused.tool + ", workspace " + workspace + ") " +
            (job.tools->approval->approve ? "approved" : "refused") + " by '" + job.tools->approval->approver + "'");
  actors::spawn_session(*app.system, app.gateway, std::move(job), std::move(out));
}

}  // namespace sb
