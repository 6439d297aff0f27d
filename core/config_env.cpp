// The environment (SPEC section 2): provider keys, model cascades, base URLs
// and the global settings. A variable set to the empty string counts as unset,
// as docker and systemd env files commonly leave `OPENAI_API_KEY=` lines.
// No message here ever contains a secret.

#include <cctype>
#include <cstdlib>
#include <limits>

#include "core/config_sources.hpp"
#include "core/provider_catalog.hpp"

extern char** environ;

namespace sb {
namespace {

constexpr int max_keys_per_provider = 5;

std::string trim(const std::string& s) {
  auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  auto end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

/// The trimmed value, or nullopt when unset or empty.
std::optional<std::string> lookup(const environment& env, const std::string& name) {
  auto it = env.find(name);
  if (it == env.end()) return std::nullopt;
  auto value = trim(it->second);
  if (value.empty()) return std::nullopt;
  return value;
}

bool starts_with_ci(const std::string& s, const std::string& prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

/// "OPENAI_API_KEY" for slot 1, "OPENAI_API_KEY_3" for slot 3.
std::string slot_name(const std::string& base, int slot) {
  return slot == 1 ? base : base + "_" + std::to_string(slot);
}

maybe_error read_keys(const environment& env, const provider_spec& spec, provider_config& p) {
  for (int slot = 1; slot <= max_keys_per_provider; ++slot) {
    // The canonical name wins over the alias (GEMINI_API_KEY, HF_TOKEN), per slot.
    std::string name = slot_name(spec.env_prefix + "_API_KEY", slot);
    auto secret = lookup(env, name);
    if (!secret && !spec.key_alias.empty()) {
      name = slot_name(spec.key_alias, slot);
      secret = lookup(env, name);
    }
    if (!secret) continue;
    // It goes into an HTTP header: a stray newline would split the request.
    if (has_space_or_control(*secret))
      return config_error{name, "contains whitespace or a control character (a key is one token)"};
    p.keys.push_back({spec.id + "#" + std::to_string(slot), std::move(*secret)});
  }
  return std::nullopt;
}

maybe_error read_models(const environment& env, const provider_spec& spec, provider_config& p) {
  const std::string name = "LLM_MODEL_" + spec.env_prefix;
  auto value = lookup(env, name);
  p.models.clear();
  if (value) {
    std::size_t start = 0;
    while (start <= value->size()) {
      auto comma = value->find(',', start);
      if (comma == std::string::npos) comma = value->size();
      auto model = trim(value->substr(start, comma - start));
      start = comma + 1;
      if (model.empty()) continue;
      if (has_space_or_control(model))
        return config_error{name, "model \"" + model + "\" contains whitespace"};
      bool seen = false;
      for (const auto& m : p.models) seen = seen || m == model;
      if (!seen) p.models.push_back(std::move(model));
    }
  }
  // Only commas and spaces (e.g. "LLM_MODEL_OPENAI= , ") read as unset too.
  if (p.models.empty()) p.models = spec.default_models;
  return std::nullopt;
}

maybe_error read_base_url(const environment& env, const provider_spec& spec, provider_config& p) {
  const std::string name = spec.env_prefix + "_BASE_URL";
  auto value = lookup(env, name);
  if (!value) {
    p.base_url = spec.default_base_url;
    return std::nullopt;
  }
  std::string url = *value;
  std::size_t scheme_len = starts_with_ci(url, "https://") ? 8 : starts_with_ci(url, "http://") ? 7 : 0;
  // The URL is not echoed: it may carry credentials in its userinfo or query.
  if (scheme_len == 0)
    return config_error{name, "expected a URL starting with http:// or https://"};
  while (url.size() > scheme_len && url.back() == '/') url.pop_back();
  if (url.size() == scheme_len || url[scheme_len] == '/')
    return config_error{name, "expected a host after the scheme"};
  if (has_space_or_control(url) || url.find_first_of("?#") != std::string::npos)
    return config_error{name, "expected scheme://host[:port][/prefix] without spaces, query or "
                              "fragment (request paths are appended to it)"};
  p.base_url = std::move(url);
  return std::nullopt;
}

maybe_error read_provider(const environment& env, const provider_spec& spec, provider_config& p) {
  p.id = spec.id;
  p.format = spec.format;
  if (auto e = read_keys(env, spec, p)) return e;
  if (auto e = read_models(env, spec, p)) return e;
  if (auto e = read_base_url(env, spec, p)) return e;
  if (spec.id == "openai")
    if (auto org = lookup(env, "OPENAI_ORG_ID")) {
      if (has_space_or_control(*org))
        return config_error{"OPENAI_ORG_ID", "contains whitespace or a control character"};
      p.extra_headers["OpenAI-Organization"] = *org;
    }
  return std::nullopt;
}

maybe_error read_globals(const environment& env, gateway_config& cfg) {
  if (auto cap = lookup(env, "LLM_MONTHLY_TOKEN_CAP_PER_WORKSPACE")) {
    bool digits = cap->size() <= 18;
    for (unsigned char c : *cap) digits = digits && std::isdigit(c);
    long long n = digits ? std::stoll(*cap) : 0;
    if (n <= 0)
      return config_error{"LLM_MONTHLY_TOKEN_CAP_PER_WORKSPACE",
                          "expected a positive integer (tokens per workspace per month), got \"" +
                              *cap + "\""};
    cfg.default_monthly_token_cap = n;
  }
  if (auto url = lookup(env, "REDIS_URL")) {
    if (!starts_with_ci(*url, "redis://") && !starts_with_ci(*url, "rediss://"))
      return config_error{"REDIS_URL", "expected redis://host:port[/db]"};
    cfg.redis_url = *url;
  }
  if (auto url = lookup(env, "DATABASE_URL")) {
    // A plain path (no scheme) is an SQLite file.
    bool has_scheme = url->find("://") != std::string::npos;
    if (has_scheme && !starts_with_ci(*url, "sqlite://") && !starts_with_ci(*url, "postgresql://") &&
        !starts_with_ci(*url, "postgres://"))
      return config_error{"DATABASE_URL",
                          "expected a file path, sqlite:///path or postgresql://..."};
    cfg.database_url = *url;
  }
  if (auto listen = lookup(env, "GATEWAY_LISTEN")) {
    auto parsed = parse_listen_address(*listen);
    if (!parsed)
      return config_error{"GATEWAY_LISTEN", "expected host:port or [ipv6]:port with a port from 0 "
                                            "to 65535, got \"" + *listen + "\""};
    cfg.listen_host = parsed->first;
    cfg.listen_port = parsed->second;
  }
  if (auto token = lookup(env, "GATEWAY_ADMIN_TOKEN")) {
    if (has_space_or_control(*token))
      return config_error{"GATEWAY_ADMIN_TOKEN", "contains whitespace or a control character"};
    cfg.admin_token = *token;
  }
  if (auto n = lookup(env, "GATEWAY_IO_THREADS")) {
    bool digits = !n->empty() && n->size() <= 3;
    for (unsigned char c : *n) digits = digits && std::isdigit(c);
    int v = digits ? std::stoi(*n) : 0;
    if (v < 1 || v > 256)
      return config_error{"GATEWAY_IO_THREADS", "expected an integer from 1 to 256, got \"" + *n + "\""};
    cfg.io_threads = static_cast<std::size_t>(v);
  }
  return std::nullopt;
}

bool is_relevant_variable(const std::string& name) {
  static const char* const globals[] = {"LLM_MONTHLY_TOKEN_CAP_PER_WORKSPACE", "REDIS_URL",
                                        "DATABASE_URL", "GATEWAY_LISTEN", "GATEWAY_ADMIN_TOKEN",
                                        "GATEWAY_IO_THREADS", "OPENAI_ORG_ID"};
  for (const char* g : globals)
    if (name == g) return true;
  auto starts = [&](const std::string& prefix) { return name.rfind(prefix, 0) == 0; };
  if (starts("LLM_MODEL_")) return true;
  for (const auto& spec : provider_catalog()) {
    if (starts(spec.env_prefix + "_API_KEY") || name == spec.env_prefix + "_BASE_URL") return true;
    if (!spec.key_alias.empty() && starts(spec.key_alias)) return true;
  }
  return false;
}

}  // namespace

environment process_environment() {
  environment env;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string line(*entry);
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto name = line.substr(0, eq);
    if (is_relevant_variable(name)) env[name] = line.substr(eq + 1);
  }
  return env;
}

maybe_error apply_environment(const environment& env, gateway_config& cfg) {
  std::vector<provider_config> all;
  for (const auto& spec : provider_catalog()) {
    provider_config p;
    if (auto e = read_provider(env, spec, p)) return e;
    all.push_back(std::move(p));
  }
  cfg.providers.clear();
  for (const auto& id : cfg.chain)
    for (auto& p : all)
      if (p.id == id && !p.keys.empty()) cfg.providers.push_back(p);
  return read_globals(env, cfg);
}

}  // namespace sb
