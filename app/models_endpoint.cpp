// GET /v1/models: the configured targets as OpenAI's model list.

#include <nlohmann/json.hpp>

#include "app/routes.hpp"
#include "core/target.hpp"
#include "core/workspace_auth.hpp"

namespace sb {

void handle_models(const app_context& app, net::http_request& req,
                   std::shared_ptr<net::responder> out) {
  const auto& cfg = *app.gateway->config;
  auto who = authenticate(cfg, req.header("authorization"));
  if (auto* e = std::get_if<api_error>(&who)) return respond_error(*out, *e);

  // Stable across restarts so that clients may cache the list.
  constexpr std::int64_t created = 1700000000;
  nlohmann::json data = nlohmann::json::array();
  for (auto& t : full_cascade(cfg))
    data.push_back({{"id", t.name()}, {"object", "model"}, {"created", created}, {"owned_by", t.provider}});
  respond_json(*out, 200, nlohmann::json{{"object", "list"}, {"data", std::move(data)}}.dump());
}

}  // namespace sb
