#pragma once
// The two sources a gateway_config is built from, applied in this order:
// the JSON file, then the environment (which wins for keys and URLs).
// Internal to core/config*.cpp.

#include <cctype>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "core/config_json_reader.hpp"

namespace sb {

/// Applies a parsed config document (SPEC section 3) on top of the defaults.
maybe_error apply_config_file(const nlohmann::json& document, gateway_config& cfg);

/// Applies SPEC section 2's environment and builds `cfg.providers` from
/// `cfg.chain`; call after apply_config_file.
maybe_error apply_environment(const environment& env, gateway_config& cfg);

/// "openai/gpt-4o" -> ok when the provider is one of the six and the model
/// part is non-empty; otherwise the problem, for the caller to put a path on.
std::optional<std::string> target_name_problem(const std::string& name);

/// Names, keys and model ids are single tokens: whitespace or control
/// characters in one are a mistake (and could split an HTTP header).
inline bool has_space_or_control(std::string_view s) {
  for (unsigned char c : s)
    if (std::isspace(c) || std::iscntrl(c)) return true;
  return false;
}

}  // namespace sb
