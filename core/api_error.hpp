#pragma once
// The one error shape every client sees: OpenAI's envelope
// {"error": {"message", "type", "code", "param"}} plus its HTTP status.

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace sb {

struct api_error {
  int status = 500;
  std::string type;     // OpenAI's error type, e.g. invalid_request_error
  std::string code;     // machine-readable, e.g. model_not_found
  std::string message;  // for a person: what went wrong and what to do
  std::optional<std::string> param;

  /// Serialises to the envelope body (a JSON string), with `extra` merged
  /// into the inner "error" object when it is an object (e.g. attempts).
  [[nodiscard]] std::string to_body() const;
  [[nodiscard]] std::string to_body(const nlohmann::json& extra) const;
};

// The errors the gateway itself raises, named once so every room spells them alike.
api_error invalid_request(std::string message, std::optional<std::string> param = {},
                          std::string code = "invalid_request");
api_error model_not_found(const std::string& model);
api_error unauthorized(std::string message);
api_error forbidden(std::string message);
api_error not_found_route(const std::string& method, const std::string& path);
api_error method_not_allowed(const std::string& method, const std::string& path);
api_error payload_too_large(std::size_t limit);
api_error internal_error(std::string message);
api_error no_providers_configured();

}  // namespace sb
