// PUT /admin/prompts/{name}/rollout: a new split without a restart. The file
// is written atomically first, so a restart sees what this node serves.

#include <mutex>

#include <nlohmann/json.hpp>

#include "app/routes.hpp"
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
  // Read-modify-write of the whole snapshot: two PUTs must not lose each other.
  static std::mutex writer;
  std::lock_guard lock(writer);
  auto current = app.prompts->get();
  auto next = current->with_rollout(name, rollout.value());
  if (!next) return respond_error(*out, prompts::to_api_error(next.error()));
  if (auto e = prompts::write_rollout(current->dir(), name, rollout.value()))
    return respond_error(*out, prompts::to_api_error(*e));
  app.prompts->set(next.value());
  respond_json(*out, 200, nlohmann::json{{"prompt", name}, {"rollout", prompts::rollout_to_json(rollout.value())}}.dump());
}

}  // namespace sb
