#include "app/registries.hpp"

namespace sb {

std::variant<registries, std::string> load_registries(const gateway_config& cfg) {
  registries r;
  auto lib = prompts::prompt_library::load(cfg.prompts_dir);
  if (!lib) return "prompts: " + lib.error().message;
  r.prompts = lib.value();
  r.warnings = r.prompts->warnings();

  auto tools = tools::tool_registry::build(cfg);
  if (auto* e = std::get_if<config_error>(&tools)) return e->to_string();
  r.tools = std::make_shared<const tools::tool_registry>(std::move(std::get<tools::tool_registry>(tools)));
  return r;
}

}  // namespace sb
