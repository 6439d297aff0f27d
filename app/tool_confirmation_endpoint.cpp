// SPEC 9, ADR-0013: a person's decision on a paused tool loop.
//
//   POST /v1/tool-confirmations/{id} {"approve": true|false, "approver": "..."}
//     runs the sensitive call (or tells the model it was refused) and answers
//     the finished completion (or the next pending confirmation);
//     404 unknown id or another workspace's, 409 already decided,
//     410 expired (kept an hour after expiry, then 404).
//   GET /v1/tool-confirmations?status=pending
//     the caller's workspace's undecided, unexpired confirmations;
//   GET /v1/tool-confirmations?status=approved|refused|expired[&limit=N]
//     its decided ones, newest first, from the audit in the ledger database
//     (issue 8): approver, decided_at and the tool's outcome.
// Both take a workspace token (open mode: "default"); the admin token is
// refused, as for feedback: the decision is the workspace's.

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/metering_messages.hpp"
#include "actors/session_actor.hpp"
#include "app/endpoint_actor.hpp"
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

constexpr int default_list_limit = 100;
constexpr int max_list_limit = 1000;

std::optional<int> parse_limit(const std::string& text) {
  if (text.empty() || text.size() > 4 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  int n = std::stoi(text);
  if (n < 1 || n > max_list_limit) return std::nullopt;
  return n;
}

nlohmann::json decided_json(const cluster::tool_audit_record& r) {
  auto arguments = nlohmann::json::parse(r.arguments, nullptr, false);
  return {{"id", r.confirmation_id},
          {"object", "tool_confirmation"},
          {"status", cluster::to_string(r.decision)},
          {"tool", r.tool},
          {"tool_call_id", r.tool_call_id},
          {"arguments", arguments.is_discarded() ? nlohmann::json(r.arguments) : arguments},
          {"request_id", r.request_id},
          {"approver", r.approver},
          {"created_at", r.requested_at_ms / 1000},
          {"decided_at", r.decided_at_ms / 1000},
          {"outcome", r.outcome}};
}

/// The decided ones come from the ledger database, through its actor.
void list_decided(const app_context& app, cluster::tool_audit_query query, std::shared_ptr<net::responder> out) {
  auto ledger = app.gateway->ledger;
  app.system->spawn([=](caf::event_based_actor* self) -> caf::behavior {
    self->request(ledger, std::chrono::seconds(10), actors::audits_atom::value, query)
        .then(
            [=](actors::tool_audits_reply& r) {
              if (r.error) {
                respond_error(*out, store_api_error("The audit store", *r.error));
              } else {
                auto data = nlohmann::json::array();
                for (auto& rec : r.records) data.push_back(decided_json(rec));
                respond_json(*out, 200, nlohmann::json{{"object", "list"}, {"data", data}}.dump());
              }
              self->quit();
            },
            [=](caf::error& e) {
              respond_error(*out, store_api_error("The audit store",
                                                  {cluster::store_errc::unavailable, self->system().render(e)}));
              self->quit();
            });
    return keep_alive_until_answered();
  });
}

/// An attempt to decide an expired confirmation is on record too.
void audit_expired(const app_context& app, const actors::paused_loop& p, const std::string& approver) {
  if (!app.gateway->ledger || p.id.empty()) return;
  cluster::tool_audit_record r;
  r.confirmation_id = p.id;
  r.workspace_id = p.workspace;
  r.request_id = p.state.value("request_id", "");
  r.tool = p.tool;
  r.tool_call_id = p.tool_call_id;
  r.arguments = p.arguments.dump();
  r.approver = approver;
  r.decision = cluster::tool_decision::expired;
  r.requested_at_ms = p.created_ms;
  r.decided_at_ms = r.outcome_at_ms = cluster::now_ms();
  r.outcome = cluster::outcome_not_run;
  caf::anon_send(app.gateway->ledger, actors::audit_atom::value, std::move(r));
}

/// The confirmation store may be Redis, whose calls block: they run on a
/// detached one-shot actor's thread, never on an I/O thread (which also runs
/// the actors, ADR-0001). Decisions are rare: a thread each is cheap enough.
template <class F>
void off_the_io_thread(const app_context& app, F work) {
  app.system->spawn<caf::detached>([work](caf::event_based_actor* self) -> caf::behavior {
    work();
    self->quit();
    return {};
  });
}

void decide(const app_context& app, std::shared_ptr<net::responder> out, const std::string& id,
            const std::string& workspace, bool approve, const std::string& approver);

}  // namespace

void handle_tool_confirmations_list(const app_context& app, net::http_request& req,
                                    std::shared_ptr<net::responder> out) {
  auto ws = own_workspace_of(app, req);
  if (auto* e = std::get_if<api_error>(&ws)) return respond_error(*out, *e);
  auto q = parse_query(req.query);
  auto status = q.get("status").value_or("pending");
  if (status != "pending") {
    auto decision = cluster::parse_tool_decision(status);
    if (!decision)
      return respond_error(*out, invalid_request("`status` must be pending, approved, refused or expired.",
                                                 "status"));
    cluster::tool_audit_query query{std::get<std::string>(ws), decision, default_list_limit};
    if (auto l = q.get("limit")) {
      auto n = parse_limit(*l);
      if (!n) return respond_error(*out, invalid_request("`limit` must be an integer from 1 to 1000.", "limit"));
      query.limit = *n;
    }
    return list_decided(app, std::move(query), std::move(out));
  }
  off_the_io_thread(app, [&app, workspace = std::get<std::string>(ws), out] {
    auto data = nlohmann::json::array();
    if (app.confirmations)
      for (auto& p : app.confirmations->pending(workspace, cluster::now_ms())) data.push_back(p.summary());
    respond_json(*out, 200, nlohmann::json{{"object", "list"}, {"data", data}}.dump());
  });
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
  off_the_io_thread(app, [&app, out, id, workspace, approve = approve->get<bool>(),
                          approver = approver->get<std::string>()] {
    decide(app, out, id, workspace, approve, approver);
  });
}

namespace {

/// Claims the confirmation (the store may block), then resumes the loop in a
/// session that answers the client.
void decide(const app_context& app, std::shared_ptr<net::responder> out, const std::string& id,
            const std::string& workspace, bool approve, const std::string& approver) {
  actors::paused_loop expired;
  auto decided_ms = cluster::now_ms();
  auto claimed = app.confirmations->claim(id, workspace, decided_ms, &expired);
  if (auto* err = std::get_if<actors::confirmation_store::claim_error>(&claimed)) {
    using ce = actors::confirmation_store::claim_error;
    switch (*err) {
      case ce::not_found: return respond_error(*out, not_found_confirmation(id));
      case ce::already_used:
        return respond_error(*out, {409, "invalid_request_error", "confirmation_already_used",
                                    "Tool confirmation '" + id + "' was already decided.", std::nullopt});
      case ce::expired:
        audit_expired(app, expired, approver);
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
  job.body = chat_body(s.value("body", nlohmann::json::object()));
  // A loop paused mid-stream resumes here as a whole answer (ADR-0013).
  job.body.edit().erase("stream");
  job.body.edit().erase("stream_options");
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
  tl.approval = actors::tool_approval{paused.id, paused.tool_call_id, approve, approver,
                                      paused.created_ms, decided_ms};
  tl.resume_state = std::move(s);
  job.tools = std::move(tl);

  // The caps as they are now; the reservation covers the next round (ADR-0013).
  for (auto& w : cfg.workspaces)
    if (w.id == workspace) {
      job.caps.tokens = cfg.token_cap_for(w);
      if (w.monthly_cost_cap_usd) job.caps.cost_micros = static_cast<std::int64_t>(*w.monthly_cost_cap_usd * 1e6);
    }
  job.prompt_estimate = estimate_prompt_tokens(job.body.tree());
  std::int64_t answer_budget = cfg.quota.default_reservation_tokens;
  for (const char* k : {"max_completion_tokens", "max_tokens"})
    if (auto v = job.body.tree().find(k); v != job.body.tree().end() && v->is_number_integer())
      answer_budget = v->get<std::int64_t>();
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

}  // namespace

}  // namespace sb
