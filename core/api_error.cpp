#include "core/api_error.hpp"

#include <nlohmann/json.hpp>

namespace sb {

std::string api_error::to_body() const { return to_body(nlohmann::json()); }

std::string api_error::to_body(const nlohmann::json& extra) const {
  nlohmann::json inner = {{"message", message},
                          {"type", type},
                          {"code", code.empty() ? nlohmann::json() : nlohmann::json(code)},
                          {"param", param ? nlohmann::json(*param) : nlohmann::json()}};
  if (extra.is_object())
    for (auto& [k, v] : extra.items()) inner[k] = v;
  return nlohmann::json{{"error", std::move(inner)}}.dump();
}

api_error invalid_request(std::string message, std::optional<std::string> param, std::string code) {
  return {400, "invalid_request_error", std::move(code), std::move(message), std::move(param)};
}

api_error model_not_found(const std::string& model) {
  return {400, "invalid_request_error", "model_not_found",
          "The model '" + model +
              "' is not served here: use 'auto', 'provider/model', an alias, or a model "
              "listed by GET /v1/models.",
          "model"};
}

api_error unauthorized(std::string message) {
  return {401, "invalid_request_error", "invalid_api_key", std::move(message), std::nullopt};
}

api_error forbidden(std::string message) {
  return {403, "invalid_request_error", "forbidden", std::move(message), std::nullopt};
}

api_error not_found_route(const std::string& method, const std::string& path) {
  return {404, "invalid_request_error", "unknown_route",
          "No route for " + method + " " + path + ".", std::nullopt};
}

api_error method_not_allowed(const std::string& method, const std::string& path) {
  return {405, "invalid_request_error", "method_not_allowed",
          "Method " + method + " is not allowed on " + path + ".", std::nullopt};
}

api_error payload_too_large(std::size_t limit) {
  return {413, "invalid_request_error", "request_too_large",
          "The request body exceeds the limit of " + std::to_string(limit) + " bytes.",
          std::nullopt};
}

api_error internal_error(std::string message) {
  return {500, "server_error", "internal_error", std::move(message), std::nullopt};
}

api_error no_providers_configured() {
  return {503, "server_error", "no_providers_configured",
          "No provider API key is configured. Set at least one of OPENROUTER_API_KEY, "
          "ANTHROPIC_API_KEY, OPENAI_API_KEY, GOOGLE_API_KEY (or GEMINI_API_KEY), "
          "DEEPSEEK_API_KEY, HUGGINGFACE_API_KEY (or HF_TOKEN).",
          std::nullopt};
}

}  // namespace sb
