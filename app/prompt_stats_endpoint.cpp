// GET /v1/prompts/{name}/stats?period=YYYY-MM (SPEC 8): per version of one
// prompt, what its requests cost and how they went, from the ledger's rows
// (definitions: cluster/prompt_stats.hpp and ADR-0012). Scoped like
// GET /v1/usage: a workspace token reads its own workspace, the admin token
// any with &workspace=ID.

#include <algorithm>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/metering_messages.hpp"
#include "app/endpoint_actor.hpp"
#include "app/routes.hpp"
#include "app/workspace_scope.hpp"

namespace sb {
namespace {

nlohmann::json version_json(const cluster::prompt_version_stats& s) {
  return {{"version", s.version},
          {"requests", s.requests},
          {"upstream_calls", s.upstream_calls},
          {"errors", s.errors},
          {"cancelled", s.cancelled},
          {"error_rate", s.requests ? static_cast<double>(s.errors) / static_cast<double>(s.requests) : 0.0},
          {"mean_latency_ms", s.mean_latency_ms},
          {"p95_latency_ms", s.p95_latency_ms},
          {"prompt_tokens", s.prompt_tokens},
          {"completion_tokens", s.completion_tokens},
          {"total_tokens", s.total_tokens},
          {"cost_estimate_usd", s.cost_estimate_usd},
          {"feedback_count", s.feedback_count},
          {"mean_feedback_score", s.mean_feedback ? nlohmann::json(*s.mean_feedback) : nlohmann::json()}};
}

/// The ledger's lines, plus a zero line for every servable version of the
/// live library that had no traffic: "v3 got nothing" is an answer too.
nlohmann::json versions_json(std::vector<cluster::prompt_version_stats> stats,
                             const prompts::prompt* known) {
  if (known) {
    for (const auto& [n, v] : known->versions) {
      if (!v.servable()) continue;
      bool seen = false;
      for (const auto& s : stats) seen = seen || s.version == n;
      if (!seen) {
        cluster::prompt_version_stats zero;
        zero.version = n;
        stats.push_back(zero);
      }
    }
  }
  std::sort(stats.begin(), stats.end(), [](auto& a, auto& b) { return a.version < b.version; });
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : stats) out.push_back(version_json(s));
  return out;
}

}  // namespace

void handle_prompt_stats(const app_context& app, net::http_request& req,
                         std::shared_ptr<net::responder> out, const std::string& name) {
  auto q = parse_query(req.query);
  auto ws = readable_workspace_of(app, req, q);
  if (auto* e = std::get_if<api_error>(&ws)) return respond_error(*out, *e);
  auto period = period_of_query(q);
  if (auto* e = std::get_if<api_error>(&period)) return respond_error(*out, *e);
  auto workspace = std::get<std::string>(ws);
  auto month = std::get<std::string>(period);

  // The snapshot the caller sees now: versions with no traffic, and the split.
  auto library = app.prompts ? app.prompts->get() : nullptr;
  const prompts::prompt* known = library ? library->find(name) : nullptr;
  nlohmann::json rollout;  // null when the prompt is not (or no longer) served
  if (known)
    if (auto r = known->effective_rollout()) rollout = prompts::rollout_to_json(*r);

  auto ledger = app.gateway->ledger;
  app.system->spawn([=](caf::event_based_actor* self) -> caf::behavior {
    self->request(ledger, std::chrono::seconds(30), actors::prompt_stats_atom::value, workspace, name,
                  month)
        .then(
            [=](actors::prompt_stats_reply& r) {
              if (r.error) {
                respond_error(*out, store_api_error("The usage store", *r.error));
                return self->quit();
              }
              // History outlives files: a prompt removed from prompts_dir
              // still has stats. Only a name nobody knows is a 404.
              if (!known && r.versions.empty()) {
                respond_error(*out, api_error{404, "invalid_request_error", "prompt_not_found",
                                              "No prompt '" + name + "' is served, and workspace '" +
                                                  workspace + "' has no requests with it in " + month + ".",
                                              std::nullopt});
                return self->quit();
              }
              nlohmann::json body = {{"object", "prompt.stats"},
                                     {"prompt", name},
                                     {"workspace", workspace},
                                     {"period", month},
                                     {"rollout", rollout},
                                     {"versions", versions_json(std::move(r.versions), known)}};
              respond_json(*out, 200, body.dump());
              self->quit();
            },
            [=](caf::error& e) {
              respond_error(*out, store_api_error("The usage store",
                                                  {cluster::store_errc::unavailable, self->system().render(e)}));
              self->quit();
            });
    return keep_alive_until_answered();
  });
}

}  // namespace sb
