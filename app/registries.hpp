#pragma once
// What is read from disk besides the config and may be reloaded without a
// restart (SIGHUP): prompt versions and rollouts, and the tool registry.

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/config.hpp"
#include "prompts/prompt_library.hpp"
#include "tools/tool_registry.hpp"

namespace sb {

struct registries {
  std::shared_ptr<const prompts::prompt_library> prompts;
  std::shared_ptr<const tools::tool_registry> tools;
  std::vector<std::string> warnings;  // to log: drafts not yet locked, stray files
};

/// Loads both; the first problem (a tampered prompt file, an invalid tool
/// schema) is returned as a message naming the file or the tool.
std::variant<registries, std::string> load_registries(const gateway_config& cfg);

}  // namespace sb
