#include "tools/tool_registry.hpp"

#include "core/config_json_reader.hpp"

namespace sb::tools {

tool_registry::tool_registry() : snapshot_(std::make_shared<const snapshot>()) {}

std::variant<tool_registry, config_error> tool_registry::build(const nlohmann::json& tools) {
  if (auto e = expect_array(tools, "tools")) return *e;
  auto s = std::make_shared<snapshot>();
  s->tools.reserve(tools.size());
  for (std::size_t i = 0; i < tools.size(); ++i) {
    auto read = read_tool_definition(tools[i], i);
    if (auto* e = std::get_if<config_error>(&read)) return std::move(*e);
    auto& tool = std::get<tool_definition>(read);
    auto [it, added] = s->by_name.emplace(tool.name, i);
    if (!added)
      return config_error{index_path("tools", i) + ".name",
                          "duplicate tool name \"" + tool.name + "\" (also " +
                              index_path("tools", it->second) + ")"};
    s->tools.push_back(std::move(tool));
  }
  return tool_registry(std::move(s));
}

const tool_definition* tool_registry::find(std::string_view name) const {
  auto it = snapshot_->by_name.find(name);
  return it == snapshot_->by_name.end() ? nullptr : &snapshot_->tools[it->second];
}

const nlohmann::json* tool_registry::openai_tool_definition(std::string_view name) const {
  const tool_definition* tool = find(name);
  return tool ? &tool->openai_tool : nullptr;
}

}  // namespace sb::tools
