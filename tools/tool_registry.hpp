#pragma once
// The registry tools of one config snapshot (SPEC section 9): built once at
// start and again on SIGHUP, then only read. A reload builds a new registry
// and swaps it in whole; copies share the same immutable tools, so a request
// keeps the registry it started with.

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "tools/tool_definition.hpp"

namespace sb::tools {

class tool_registry {
 public:
  /// No tools.
  tool_registry();

  /// From `gateway_config::tools` (a JSON array). The first problem stops the
  /// build: a bad schema, endpoint or name, or a name used twice.
  static std::variant<tool_registry, config_error> build(const nlohmann::json& tools);
  static std::variant<tool_registry, config_error> build(const gateway_config& config) {
    return build(config.tools);
  }

  /// Null when no tool has that name. Valid while any copy of this registry lives.
  [[nodiscard]] const tool_definition* find(std::string_view name) const;
  /// {"type":"function","function":{name, description, parameters}}: what to
  /// offer an OpenAI-format model for this tool; null when unknown.
  [[nodiscard]] const nlohmann::json* openai_tool_definition(std::string_view name) const;

  /// In config order.
  [[nodiscard]] const std::vector<tool_definition>& tools() const { return snapshot_->tools; }
  [[nodiscard]] std::size_t size() const { return snapshot_->tools.size(); }
  [[nodiscard]] bool empty() const { return snapshot_->tools.empty(); }

 private:
  struct snapshot {
    std::vector<tool_definition> tools;
    std::map<std::string, std::size_t, std::less<>> by_name;
  };
  explicit tool_registry(std::shared_ptr<const snapshot> s) : snapshot_(std::move(s)) {}
  std::shared_ptr<const snapshot> snapshot_;
};

}  // namespace sb::tools
