#pragma once
// One registry tool as the config file declares it (SPEC sections 3 and 9),
// read and checked once: its schemas compiled, its endpoint a checked URL.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "tools/json_schema.hpp"

namespace sb::tools {

struct tool_definition {
  std::string name;         // ^[a-zA-Z0-9_-]{1,64}$: what providers accept as a function name
  std::string description;  // may be empty
  nlohmann::json input_schema;  // as configured, "type": "object"; offered to the model
  compiled_schema input;        // checks a call's arguments before the endpoint sees them
  std::optional<compiled_schema> output;  // checks the endpoint's answer, when configured
  // The only URL the tool is ever called at (http or https); never taken from
  // a model or a client. Not echoed in errors: it may carry credentials.
  std::string endpoint;
  bool sensitive = false;  // runs only after a person approves the call
  std::chrono::milliseconds timeout{10000};
  // {"type":"function","function":{name, description, parameters}}, built once.
  nlohmann::json openai_tool;
};

inline constexpr std::chrono::milliseconds default_tool_timeout{10000};
inline constexpr std::int64_t max_tool_timeout_ms = 600000;

/// Reads `tools[index]` of the config. Errors name the key
/// ("tools[0].input_schema") and, once it is known, the tool.
std::variant<tool_definition, config_error> read_tool_definition(const nlohmann::json& entry,
                                                                  std::size_t index);

/// True for what `name` must look like: 1-64 of [a-zA-Z0-9_-].
bool is_valid_tool_name(const std::string& name);

/// Nothing when `url` is an http:// or https:// URL with a host (and a valid
/// port, if any); else what is wrong, without echoing the URL.
std::optional<std::string> endpoint_url_problem(const std::string& url);

}  // namespace sb::tools
