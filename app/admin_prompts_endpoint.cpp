// PUT /admin/prompts/{name}/rollout: a new split without a restart. The file
// is written atomically first, so a restart sees what this node serves.

#include <nlohmann/json.hpp>

#include "app/prompt_rollout_apply.hpp"
#include "app/routes.hpp"
#include "cluster/rollout_notifier.hpp"
#include "prompts/rollout.hpp"

namespace sb {

void handle_admin_prompt_rollout(const app_context& app, net::http_request& req,
                                 std::shared_ptr<net::responder> out, const std::string& name) {
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded())
    return respond_error(*out, invalid_request("The body must be JSON: {\"stable\": N, \"canary\": "
                                               "{\"version\": M, \"percent\": P}}.", std::nullopt, "invalid_json"));
  auto rollout = prompts::parse_rollout(body);
  if (!rollout) return respond_error(*out, prompts::to_api_error(rollout.error()));
  if (auto e = apply_rollout(*app.prompts, name, rollout.value()))
    return respond_error(*out, prompts::to_api_error(*e));
  // Cluster mode: the other nodes apply it too (ADR-0012). This node already
  // serves the new split; a failed publish says so, and a retried PUT is safe.
  if (app.rollouts)
    if (auto e = app.rollouts->publish(name, prompts::rollout_to_json(rollout.value()).dump()))
      return respond_error(*out, api_error{503, "server_error", "rollout_not_propagated",
                                           "The rollout is applied on this node but the other nodes could not be "
                                           "told (" + e->message + "): retry the PUT.", std::nullopt});
  respond_json(*out, 200, nlohmann::json{{"prompt", name}, {"rollout", prompts::rollout_to_json(rollout.value())}}.dump());
}

}  // namespace sb
