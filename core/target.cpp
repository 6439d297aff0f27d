// Model selection, SPEC section 4. The rules, tried in this order:
//   1. "auto"            the whole cascade (empty when nothing is configured:
//                        the caller answers 503 no_providers_configured).
//   2. an alias          its list in order, minus targets whose provider has
//                        no key; if none is left, model_not_found saying why.
//                        Config loading guarantees an alias never looks like
//                        "auto" or "provider/model".
//   3. provider/model    when the first segment is a configured provider: that
//                        target (any model of it, cascade or not), then the rest.
//   4. a bare name       every cascade target with that exact model name, then
//                        the rest. "anthropic/claude-3.5-sonnet" lands here when
//                        anthropic is not configured but OpenRouter lists it.
//   5. otherwise         400 model_not_found.
// fallback=false (X-Gateway-Fallback: none) keeps only the requested targets
// for rules 3 and 4; auto and aliases are explicit lists and ignore it.

#include "core/target.hpp"

#include <algorithm>

#include "core/provider_catalog.hpp"

namespace sb {
namespace {

bool is_configured(const gateway_config& cfg, const std::string& provider) {
  const auto* p = cfg.find_provider(provider);
  return p && !p->keys.empty();
}

std::optional<target> split_target(const std::string& name) {
  auto slash = name.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == name.size()) return std::nullopt;
  return target{name.substr(0, slash), name.substr(slash + 1)};
}

/// `first`, then (with fallback) the cascade without them.
std::vector<target> first_then_rest(std::vector<target> first, const gateway_config& cfg,
                                    bool fallback) {
  if (!fallback) return first;
  auto all = full_cascade(cfg);
  first.reserve(first.size() + all.size());
  for (auto& t : all)
    if (std::find(first.begin(), first.end(), t) == first.end()) first.push_back(std::move(t));
  return first;
}

std::variant<std::vector<target>, api_error> from_alias(const gateway_config& cfg,
                                                        const std::string& alias,
                                                        const std::vector<std::string>& names) {
  std::vector<target> out;
  std::string unconfigured;
  for (const auto& name : names) {
    auto t = split_target(name);
    if (!t) continue;  // config loading rejects these; a hand-built config may not
    if (is_configured(cfg, t->provider))
      out.push_back(std::move(*t));
    else if (unconfigured.find(t->provider) == std::string::npos)
      unconfigured += (unconfigured.empty() ? "" : ", ") + t->provider;
  }
  if (!out.empty()) return out;
  auto error = model_not_found(alias);
  error.message = "The alias '" + alias + "' only names providers that have no API key configured (" +
                  unconfigured + "): set one of their *_API_KEY variables or change the alias.";
  return error;
}

api_error unconfigured_provider(const std::string& model, const provider_spec& spec) {
  auto error = model_not_found(model);
  error.message = "The model '" + model + "' names the provider '" + spec.id +
                  "', which has no API key configured: set " + spec.env_prefix +
                  "_API_KEY, or use 'auto' or a model listed by GET /v1/models.";
  return error;
}

}  // namespace

std::vector<target> full_cascade(const gateway_config& cfg) {
  std::vector<target> out;
  std::size_t n = 0;
  for (const auto& p : cfg.providers) n += p.keys.empty() ? 0 : p.models.size();
  out.reserve(n);  // computed per request: one allocation, not one per doubling
  for (const auto& p : cfg.providers) {
    if (p.keys.empty()) continue;  // "empty = not in the cascade"
    for (const auto& m : p.models) out.push_back({p.id, m});
  }
  return out;
}

std::variant<std::vector<target>, api_error> select_targets(const gateway_config& cfg,
                                                            const std::string& model,
                                                            bool fallback) {
  if (model == "auto") return full_cascade(cfg);

  if (auto alias = cfg.aliases.find(model); alias != cfg.aliases.end())
    return from_alias(cfg, model, alias->second);

  auto explicit_target = split_target(model);
  if (explicit_target && is_configured(cfg, explicit_target->provider))
    return first_then_rest({*explicit_target}, cfg, fallback);

  std::vector<target> named;
  for (auto& t : full_cascade(cfg))
    if (t.model == model) named.push_back(std::move(t));
  if (!named.empty()) return first_then_rest(std::move(named), cfg, fallback);

  if (explicit_target)
    if (const auto* spec = find_provider_spec(explicit_target->provider))
      return unconfigured_provider(model, *spec);
  return model_not_found(model);
}

}  // namespace sb
