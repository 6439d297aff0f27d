#include "prompts/prompt_library.hpp"

#include <nlohmann/json.hpp>

#include "prompts/bucketing.hpp"

namespace sb::prompts {

namespace {

std::string header_for(const std::string& name, int version) {
  return name + "@v" + std::to_string(version);
}

prompt_error unknown_version(const prompt& p, int version, std::string why) {
  return {prompt_error_kind::unknown_version,
          "prompt '" + p.name + "' has no version " + std::to_string(version) + why,
          std::to_string(version)};
}

}  // namespace

std::optional<rollout> prompt::effective_rollout() const {
  if (rollout_file) return rollout_file;
  for (auto it = versions.rbegin(); it != versions.rend(); ++it)
    if (it->second.servable()) return rollout{it->first, std::nullopt};
  return std::nullopt;
}

std::string chosen_prompt::header_value() const { return header_for(name, version); }
std::string rendered_prompt::header_value() const { return header_for(name, version); }

result<std::optional<int>> parse_requested_version(const nlohmann::json& field) {
  if (field.is_null()) return std::optional<int>{};
  const prompt_error bad{prompt_error_kind::invalid_version,
                         "prompt.version must be a version number such as \"3\", got " + field.dump(),
                         ""};
  if (field.is_number_integer()) {  // signed or unsigned: nlohmann keeps both kinds
    auto v = field.get<long long>();
    if (field.is_number_unsigned() && field.get<unsigned long long>() > 999999999ULL) return bad;
    if (v < 1 || v > 999999999) return bad;
    return std::optional<int>{static_cast<int>(v)};
  }
  if (!field.is_string()) return bad;
  const auto& s = field.get_ref<const std::string&>();
  if (s.empty() || s.size() > 9 || s[0] == '0') return bad;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return bad;
    v = v * 10 + (c - '0');
  }
  return std::optional<int>{v};
}

std::shared_ptr<const prompt_library> prompt_library::empty() {
  return std::make_shared<const prompt_library>();
}

const prompt* prompt_library::find(std::string_view name) const {
  auto it = prompts_.find(std::string(name));
  return it == prompts_.end() ? nullptr : &it->second;
}

result<chosen_prompt> prompt_library::choose(std::string_view name, std::string_view user_id,
                                             std::optional<int> version) const {
  const prompt* p = find(name);
  if (!p)
    return prompt_error{prompt_error_kind::unknown_prompt, "no prompt named '" + std::string(name) + "'",
                        std::string(name)};

  bool canary = false;
  if (!version) {
    auto split = p->effective_rollout();
    if (!split)
      return prompt_error{prompt_error_kind::unknown_version,
                          "prompt '" + p->name +
                              "' has no locked version yet (run `switchboard prompts lock`)",
                          ""};
    canary = split->canary && in_canary(p->name, user_id, split->canary->percent);
    version = canary ? split->canary->version : split->stable;
  }

  auto it = p->versions.find(*version);
  if (it == p->versions.end()) return unknown_version(*p, *version, "");
  if (!it->second.servable())
    return unknown_version(*p, *version, " that is locked (run `switchboard prompts lock`)");
  return chosen_prompt{p->name, *version, canary, it->second.tmpl};
}

result<rendered_prompt> prompt_library::render(std::string_view name, std::string_view user_id,
                                               std::optional<int> version,
                                               const nlohmann::json& variables) const {
  auto chosen = choose(name, user_id, version);
  if (!chosen) return chosen.error();
  auto text = chosen.value().tmpl->render(variables);
  if (!text) return text.error();
  auto& c = chosen.value();
  return rendered_prompt{std::move(c.name), c.version, c.canary, std::move(text).value()};
}

result<std::shared_ptr<const prompt_library>> prompt_library::with_rollout(std::string_view name,
                                                                           const rollout& r) const {
  const prompt* p = find(name);
  if (!p)
    return prompt_error{prompt_error_kind::unknown_prompt, "no prompt named '" + std::string(name) + "'",
                        std::string(name)};
  std::set<int> servable;
  for (const auto& [number, v] : p->versions)
    if (v.servable()) servable.insert(number);
  if (auto e = check_rollout_versions(r, servable, p->name)) return *e;

  auto copy = std::make_shared<prompt_library>(*this);  // templates are shared, not copied
  copy->prompts_.at(p->name).rollout_file = r;
  return std::shared_ptr<const prompt_library>(std::move(copy));
}

}  // namespace sb::prompts
