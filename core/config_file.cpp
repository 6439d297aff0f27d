// The JSON config file (SPEC section 3): every key optional, every value
// checked strictly so that a typo stops the start instead of being ignored.

#include <cctype>
#include <limits>
#include <set>

#include "core/config_sources.hpp"
#include "core/provider_catalog.hpp"

namespace sb {
namespace {

using nlohmann::json;

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
// A day: longer waits or timeouts are a unit mistake (seconds typed as ms ×1000).
constexpr std::int64_t max_ms = 24LL * 3600 * 1000;

maybe_error read_chain(const json& value, gateway_config& cfg) {
  if (auto e = expect_array(value, "chain")) return e;
  std::vector<std::string> chain;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto path = index_path("chain", i);
    std::string id;
    if (auto e = read_string(value[i], path, id)) return e;
    if (!find_provider_spec(id)) {
      std::string known;
      for (const auto& k : known_provider_ids()) known += (known.empty() ? "" : ", ") + k;
      return config_error{path, "unknown provider \"" + id + "\"; expected one of: " + known};
    }
    for (const auto& earlier : chain)
      if (earlier == id) return config_error{path, "provider \"" + id + "\" is listed twice"};
    chain.push_back(id);
  }
  cfg.chain = std::move(chain);
  return std::nullopt;
}

// An alias must never be mistaken for `auto` or for a provider/model name,
// so that SPEC section 4's rules cannot overlap.
std::optional<std::string> alias_name_problem(const std::string& name) {
  if (name.empty()) return "an alias name must not be empty";
  if (name == "auto") return "\"auto\" is reserved for the whole cascade";
  if (has_space_or_control(name)) return "an alias name must not contain spaces";
  auto slash = name.find('/');
  if (slash != std::string::npos && find_provider_spec(name.substr(0, slash)))
    return "an alias name must not start with a provider id and '/': it would read as "
           "provider/model";
  return std::nullopt;
}

maybe_error read_aliases(const json& value, gateway_config& cfg) {
  if (auto e = expect_object(value, "aliases")) return e;
  for (auto it = value.begin(); it != value.end(); ++it) {
    const auto path = child_path("aliases", it.key());
    if (auto problem = alias_name_problem(it.key())) return config_error{path, *problem};
    if (auto e = expect_array(it.value(), path)) return e;
    if (it.value().empty()) return config_error{path, "expected at least one \"provider/model\""};
    std::vector<std::string> targets;
    for (std::size_t i = 0; i < it.value().size(); ++i) {
      const auto entry_path = index_path(path, i);
      std::string name;
      if (auto e = read_string(it.value()[i], entry_path, name)) return e;
      if (auto problem = target_name_problem(name)) return config_error{entry_path, *problem};
      for (const auto& earlier : targets)
        if (earlier == name) return config_error{entry_path, "\"" + name + "\" is listed twice"};
      targets.push_back(name);
    }
    cfg.aliases[it.key()] = std::move(targets);
  }
  return std::nullopt;
}

// Workspace ids end up in metric labels, Redis keys and query strings.
bool is_valid_workspace_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (unsigned char c : id)
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

maybe_error read_sha256(const json& value, const std::string& path, std::string& out) {
  if (auto e = read_string(value, path, out)) return e;
  bool hex = out.size() == 64;
  for (char& c : out) {
    hex = hex && std::isxdigit(static_cast<unsigned char>(c));
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (!hex)
    return config_error{path, "expected 64 hex characters (the sha256 of the client token, e.g. "
                              "from `printf %s TOKEN | sha256sum`), got " +
                                  std::to_string(out.size()) + " characters"};
  return std::nullopt;
}

maybe_error read_workspace(const json& value, const std::string& path, workspace_config& ws) {
  if (auto e = expect_object(value, path)) return e;
  object_reader r(value, path);
  if (auto e = r.only_keys({"id", "api_key_sha256", "monthly_token_cap", "monthly_cost_cap_usd"}))
    return e;
  if (!r.has("id")) return config_error{r.path_of("id"), "required: every workspace needs an id"};
  if (auto e = r.string("id", ws.id)) return e;
  if (!is_valid_workspace_id(ws.id))
    return config_error{r.path_of("id"),
                        "expected 1-64 characters of letters, digits, '_', '-' or '.', got " +
                            describe_json(value.at("id"))};
  // Required so that a forgotten key list reads as a mistake, not a locked
  // workspace; an explicit [] is a workspace no client can use (admin reads only).
  if (!r.has("api_key_sha256"))
    return config_error{r.path_of("api_key_sha256"),
                        "required: a list of sha256 hex digests of the workspace's tokens"};
  const auto& hashes = value.at("api_key_sha256");
  if (auto e = expect_array(hashes, r.path_of("api_key_sha256"))) return e;
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    std::string hash;
    if (auto e = read_sha256(hashes[i], index_path(r.path_of("api_key_sha256"), i), hash))
      return e;
    ws.api_key_sha256.push_back(std::move(hash));
  }
  if (r.has("monthly_token_cap")) {
    std::int64_t cap = 0;
    if (auto e = r.integer("monthly_token_cap", 0, int64_max, cap)) return e;
    ws.monthly_token_cap = cap;
  }
  if (r.has("monthly_cost_cap_usd")) {
    double cap = 0;
    if (auto e = r.number("monthly_cost_cap_usd", 0, cap)) return e;
    ws.monthly_cost_cap_usd = cap;
  }
  return std::nullopt;
}

maybe_error read_workspaces(const json& value, gateway_config& cfg) {
  if (auto e = expect_array(value, "workspaces")) return e;
  std::vector<workspace_config> workspaces;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto path = index_path("workspaces", i);
    workspace_config ws;
    if (auto e = read_workspace(value[i], path, ws)) return e;
    for (std::size_t j = 0; j < workspaces.size(); ++j) {
      if (workspaces[j].id == ws.id)
        return config_error{path + ".id", "duplicate workspace id \"" + ws.id +
                                              "\" (also workspaces[" + std::to_string(j) + "])"};
      // One token must name one workspace, or authentication would be a guess.
      for (std::size_t k = 0; k < ws.api_key_sha256.size(); ++k)
        for (const auto& other : workspaces[j].api_key_sha256)
          if (other == ws.api_key_sha256[k])
            return config_error{index_path(path + ".api_key_sha256", k),
                                "this hash also belongs to workspace \"" + workspaces[j].id + "\""};
    }
    workspaces.push_back(std::move(ws));
  }
  cfg.workspaces = std::move(workspaces);
  return std::nullopt;
}

maybe_error read_prices(const json& value, gateway_config& cfg) {
  if (auto e = expect_object(value, "prices")) return e;
  for (auto it = value.begin(); it != value.end(); ++it) {
    const auto path = child_path("prices", it.key());
    if (auto problem = target_name_problem(it.key())) return config_error{path, *problem};
    if (auto e = expect_object(it.value(), path)) return e;
    object_reader r(it.value(), path);
    if (auto e = r.only_keys({"input_per_mtok", "output_per_mtok"})) return e;
    for (const char* key : {"input_per_mtok", "output_per_mtok"})
      if (!r.has(key)) return config_error{r.path_of(key), "required: USD per million tokens"};
    price p;
    if (auto e = r.number("input_per_mtok", 0, p.input_per_mtok)) return e;
    if (auto e = r.number("output_per_mtok", 0, p.output_per_mtok)) return e;
    cfg.prices[it.key()] = p;
  }
  return std::nullopt;
}

maybe_error read_retry(const json& value, retry_config& retry) {
  if (auto e = expect_object(value, "retry")) return e;
  object_reader r(value, "retry");
  if (auto e = r.only_keys({"server_error_retries", "backoff_base_ms", "backoff_max_ms",
                            "max_wait_for_key_ms", "quota_skip_s"}))
    return e;
  if (auto e = r.integer("server_error_retries", 0, 100, retry.server_error_retries)) return e;
  if (auto e = r.duration("backoff_base_ms", 0, max_ms, retry.backoff_base)) return e;
  if (auto e = r.duration("backoff_max_ms", 0, max_ms, retry.backoff_max)) return e;
  if (auto e = r.duration("max_wait_for_key_ms", 0, max_ms, retry.max_wait_for_key)) return e;
  if (auto e = r.duration("quota_skip_s", 0, 31LL * 24 * 3600, retry.quota_skip)) return e;
  if (retry.backoff_base > retry.backoff_max)
    return config_error{"retry.backoff_base_ms",
                        "must not exceed retry.backoff_max_ms (" +
                            std::to_string(retry.backoff_base.count()) + " > " +
                            std::to_string(retry.backoff_max.count()) + ")"};
  return std::nullopt;
}

maybe_error read_timeouts(const json& value, timeout_config& t) {
  if (auto e = expect_object(value, "timeouts")) return e;
  object_reader r(value, "timeouts");
  if (auto e = r.only_keys({"connect_ms", "first_byte_ms", "total_ms"})) return e;
  // A zero timeout would fail every request: at least 1 ms.
  if (auto e = r.duration("connect_ms", 1, max_ms, t.connect)) return e;
  if (auto e = r.duration("first_byte_ms", 1, max_ms, t.first_byte)) return e;
  if (auto e = r.duration("total_ms", 1, max_ms, t.total)) return e;
  return std::nullopt;
}

maybe_error read_limits(const json& value, limits_config& l) {
  if (auto e = expect_object(value, "limits")) return e;
  object_reader r(value, "limits");
  if (auto e = r.only_keys({"max_body_bytes", "max_header_bytes", "read_timeout_ms",
                            "idle_timeout_ms", "drain_ms"}))
    return e;
  constexpr std::size_t gib = std::size_t{1} << 30;
  if (auto e = r.size("max_body_bytes", 1, gib, l.max_body_bytes)) return e;
  if (auto e = r.size("max_header_bytes", 1024, 1u << 20, l.max_header_bytes)) return e;
  if (auto e = r.duration("read_timeout_ms", 1, max_ms, l.read_timeout)) return e;
  if (auto e = r.duration("idle_timeout_ms", 1, max_ms, l.idle_timeout)) return e;
  if (auto e = r.duration("drain_ms", 0, max_ms, l.drain)) return e;
  return std::nullopt;
}

maybe_error read_quota(const json& value, quota_config& q) {
  if (auto e = expect_object(value, "quota")) return e;
  object_reader r(value, "quota");
  if (auto e = r.only_keys({"default_reservation_tokens"})) return e;
  return r.integer("default_reservation_tokens", 0, int64_max, q.default_reservation_tokens);
}

maybe_error read_streams(const json& value, streams_config& s) {
  if (auto e = expect_object(value, "streams")) return e;
  object_reader r(value, "streams");
  if (auto e = r.only_keys({"resume_grace_ms", "persist_every_ms"})) return e;
  if (auto e = r.duration("resume_grace_ms", 0, max_ms, s.resume_grace)) return e;
  // 0 would mean "write on every token": at least 1 ms.
  return r.duration("persist_every_ms", 1, max_ms, s.persist_every);
}

maybe_error read_tool_confirmations(const json& value, tool_confirmations_config& t) {
  if (auto e = expect_object(value, "tool_confirmations")) return e;
  object_reader r(value, "tool_confirmations");
  if (auto e = r.only_keys({"expiry_ms"})) return e;
  // 0 would expire a confirmation before anyone could see it; a day at most,
  // because a paused loop holds its whole conversation in the store.
  return r.duration("expiry_ms", 1, max_ms, t.expiry);
}

}  // namespace

std::optional<std::string> target_name_problem(const std::string& name) {
  auto slash = name.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == name.size())
    return "expected \"provider/model\", got \"" + name + "\"";
  auto provider = name.substr(0, slash);
  if (!find_provider_spec(provider)) {
    std::string known;
    for (const auto& k : known_provider_ids()) known += (known.empty() ? "" : ", ") + k;
    return "unknown provider \"" + provider + "\" in \"" + name + "\"; expected one of: " + known;
  }
  if (has_space_or_control(name)) return "\"" + name + "\" must not contain spaces";
  return std::nullopt;
}

maybe_error apply_config_file(const json& doc, gateway_config& cfg) {
  if (!doc.is_object())
    return config_error{"(top level)", "expected a JSON object, got " + describe_json(doc)};
  object_reader r(doc, "");
  if (auto e = r.only_keys({"chain", "aliases", "workspaces", "prices", "retry", "timeouts",
                            "limits", "quota", "streams", "tool_confirmations", "prompts_dir",
                            "tools"}))
    return e;
  if (r.has("chain"))
    if (auto e = read_chain(doc.at("chain"), cfg)) return e;
  if (r.has("aliases"))
    if (auto e = read_aliases(doc.at("aliases"), cfg)) return e;
  if (r.has("workspaces"))
    if (auto e = read_workspaces(doc.at("workspaces"), cfg)) return e;
  if (r.has("prices"))
    if (auto e = read_prices(doc.at("prices"), cfg)) return e;
  if (r.has("retry"))
    if (auto e = read_retry(doc.at("retry"), cfg.retry)) return e;
  if (r.has("timeouts"))
    if (auto e = read_timeouts(doc.at("timeouts"), cfg.timeouts)) return e;
  if (r.has("limits"))
    if (auto e = read_limits(doc.at("limits"), cfg.limits)) return e;
  if (r.has("quota"))
    if (auto e = read_quota(doc.at("quota"), cfg.quota)) return e;
  if (r.has("streams"))
    if (auto e = read_streams(doc.at("streams"), cfg.streams)) return e;
  if (r.has("tool_confirmations"))
    if (auto e = read_tool_confirmations(doc.at("tool_confirmations"), cfg.tool_confirmations)) return e;
  if (auto e = r.string("prompts_dir", cfg.prompts_dir)) return e;
  if (cfg.prompts_dir.empty())
    return config_error{"prompts_dir", "expected a directory path, got the empty string"};
  if (r.has("tools")) {
    // Deeper checks belong to the tool registry, which knows JSON Schema.
    if (auto e = expect_array(doc.at("tools"), "tools")) return e;
    cfg.tools = doc.at("tools");
  }
  return std::nullopt;
}

}  // namespace sb
