#include "prompts/rollout.hpp"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "prompts/prompt_file_io.hpp"
#include "prompts/prompt_paths.hpp"

namespace sb::prompts {

namespace {

prompt_error invalid(std::string message) {
  return {prompt_error_kind::invalid_rollout, std::move(message), ""};
}

// A JSON integer within [low, high]; 3.0 and "3" are refused.
std::optional<int> integer_in(const nlohmann::json& v, long long low, long long high) {
  if (!v.is_number_integer()) return std::nullopt;
  if (v.is_number_unsigned()) {
    auto u = v.get<unsigned long long>();
    if (u > static_cast<unsigned long long>(high) || static_cast<long long>(u) < low) return std::nullopt;
    return static_cast<int>(u);
  }
  auto i = v.get<long long>();
  if (i < low || i > high) return std::nullopt;
  return static_cast<int>(i);
}

maybe_error only_keys(const nlohmann::json& object, const std::set<std::string>& allowed,
                      const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    (void)value;
    if (!allowed.count(key)) return invalid(where + ": unknown key \"" + key + "\"");
  }
  return std::nullopt;
}

constexpr long long max_version = 999999999;  // what a v<N>.txt name can hold

}  // namespace

result<rollout> parse_rollout(const nlohmann::json& document) {
  if (!document.is_object())
    return invalid("a rollout is an object: {\"stable\": 2, \"canary\": {\"version\": 3, \"percent\": 10}}");
  if (auto e = only_keys(document, {"stable", "canary"}, "rollout")) return *e;

  rollout r;
  auto stable = document.find("stable");
  if (stable == document.end()) return invalid("rollout: \"stable\" is required");
  auto stable_version = integer_in(*stable, 1, max_version);
  if (!stable_version) return invalid("rollout: \"stable\" must be a version number (1, 2, ...)");
  r.stable = *stable_version;

  auto canary = document.find("canary");
  if (canary == document.end() || canary->is_null()) return r;
  if (!canary->is_object())
    return invalid("rollout: \"canary\" must be an object {\"version\": 3, \"percent\": 10}");
  if (auto e = only_keys(*canary, {"version", "percent"}, "rollout.canary")) return *e;
  auto version = canary->find("version");
  auto percent = canary->find("percent");
  if (version == canary->end() || percent == canary->end())
    return invalid("rollout.canary: \"version\" and \"percent\" are required");
  auto canary_version = integer_in(*version, 1, max_version);
  if (!canary_version)
    return invalid("rollout.canary: \"version\" must be a version number (1, 2, ...)");
  auto canary_percent = integer_in(*percent, 0, 100);
  if (!canary_percent)
    return invalid("rollout.canary: \"percent\" must be an integer from 0 to 100");
  r.canary = canary_split{*canary_version, *canary_percent};
  return r;
}

nlohmann::json rollout_to_json(const rollout& r) {
  nlohmann::json document = {{"stable", r.stable}};
  if (r.canary)
    document["canary"] = {{"version", r.canary->version}, {"percent", r.canary->percent}};
  return document;
}

maybe_error check_rollout_versions(const rollout& r, const std::set<int>& servable,
                                   const std::string& prompt_name) {
  auto check = [&](int version, const char* role) -> maybe_error {
    if (servable.count(version)) return std::nullopt;
    prompt_error e = invalid(std::string(role) + " version " + std::to_string(version) + " of prompt '" +
                             prompt_name + "' is not a locked version");
    e.subject = std::to_string(version);
    return e;
  };
  if (auto e = check(r.stable, "the stable")) return e;
  if (r.canary)
    if (auto e = check(r.canary->version, "the canary")) return e;
  return std::nullopt;
}

result<std::optional<rollout>> read_rollout_file(const std::string& dir, const std::string& name) {
  const std::string path = rollout_file_path(dir, name);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<rollout>{};
  auto content = read_whole_file(path);
  if (!content) return content.error();
  auto document = nlohmann::json::parse(content.value(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded())
    return prompt_error{prompt_error_kind::invalid_files, path + ": not valid JSON", path};
  auto parsed = parse_rollout(document);
  if (!parsed)
    return prompt_error{prompt_error_kind::invalid_files, path + ": " + parsed.error().message, path};
  return std::optional<rollout>{parsed.value()};
}

maybe_error write_rollout(const std::string& dir, const std::string& name, const rollout& r) {
  if (!is_valid_prompt_name(name))
    return prompt_error{prompt_error_kind::unknown_prompt, "'" + name + "' is not a valid prompt name", name};
  std::error_code ec;
  if (!std::filesystem::is_directory(std::filesystem::path(dir) / name, ec))
    return prompt_error{prompt_error_kind::unknown_prompt, "no prompt named '" + name + "' in " + dir, name};
  return write_file_atomically(rollout_file_path(dir, name), rollout_to_json(r).dump(2) + "\n");
}

}  // namespace sb::prompts
