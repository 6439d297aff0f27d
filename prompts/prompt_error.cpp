#include "prompts/prompt_error.hpp"

namespace sb::prompts {

sb::api_error to_api_error(const prompt_error& e) {
  const std::string type = "invalid_request_error";
  switch (e.kind) {
    case prompt_error_kind::unknown_prompt:
      return {404, type, "prompt_not_found", e.message, "prompt.id"};
    case prompt_error_kind::unknown_version:
      return {404, type, "prompt_version_not_found", e.message, "prompt.version"};
    case prompt_error_kind::invalid_version:
      return {400, type, "invalid_prompt_version", e.message, "prompt.version"};
    case prompt_error_kind::missing_variable:
      return {400, type, "missing_prompt_variable", e.message, "prompt.variables." + e.subject};
    case prompt_error_kind::unknown_variable:
      return {400, type, "unknown_prompt_variable", e.message, "prompt.variables." + e.subject};
    case prompt_error_kind::invalid_variable:
      return {400, type, "invalid_prompt_variable", e.message,
              e.subject.empty() ? "prompt.variables" : "prompt.variables." + e.subject};
    case prompt_error_kind::invalid_rollout:
      return {400, type, "invalid_rollout", e.message, std::nullopt};
    case prompt_error_kind::invalid_files:
    case prompt_error_kind::io_failed:
      break;
  }
  return {500, "server_error", "prompt_files_error", e.message, std::nullopt};
}

}  // namespace sb::prompts
