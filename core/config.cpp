// Builds the immutable gateway_config snapshot: defaults, then the file,
// then the environment. Nothing here throws: problems are config_errors.

#include "core/config.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "core/config_sources.hpp"

namespace sb {
namespace {

constexpr const char* document_key = "(top level)";

// nlohmann's what() starts with "[json.exception.parse_error.101] "; the rest
// already says "parse error at line L, column C: ...".
std::string parse_error_text(const nlohmann::json::parse_error& e) {
  std::string text = e.what();
  auto bracket = text.find("] ");
  if (text.rfind("[json.exception", 0) == 0 && bracket != std::string::npos)
    text = text.substr(bracket + 2);
  return "invalid JSON: " + text + " (byte " + std::to_string(e.byte) + ")";
}

}  // namespace

const provider_config* gateway_config::find_provider(const std::string& id) const {
  for (const auto& p : providers)
    if (p.id == id) return &p;
  return nullptr;
}

const workspace_config* gateway_config::find_workspace(const std::string& id) const {
  for (const auto& ws : workspaces)
    if (ws.id == id) return &ws;
  return nullptr;
}

std::optional<std::int64_t> gateway_config::token_cap_for(const workspace_config& ws) const {
  return ws.monthly_token_cap ? ws.monthly_token_cap : default_monthly_token_cap;
}

config_result parse_config(const std::string& json_text, const environment& env) {
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    return {std::nullopt, config_error{document_key, parse_error_text(e)}};
  } catch (const std::exception& e) {
    return {std::nullopt, config_error{document_key, std::string("invalid JSON: ") + e.what()}};
  }
  gateway_config cfg;
  cfg.chain = known_provider_ids();
  try {
    if (auto e = apply_config_file(document, cfg)) return {std::nullopt, std::move(e)};
    if (auto e = apply_environment(env, cfg)) return {std::nullopt, std::move(e)};
  } catch (const std::exception& e) {  // a bug, not a config problem; still no throw
    return {std::nullopt, config_error{document_key, std::string("unexpected: ") + e.what()}};
  }
  return {std::move(cfg), std::nullopt};
}

config_result load_config(const std::string& file, const environment& env) {
  if (file.empty()) return parse_config("{}", env);
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0)
    return {std::nullopt, config_error{file, std::string("cannot read the config file: ") +
                                                 std::strerror(errno)}};
  if (!S_ISREG(info.st_mode))
    return {std::nullopt, config_error{file, "cannot read the config file: not a regular file"}};
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof())
    return {std::nullopt, config_error{file, "cannot read the config file"}};
  auto result = parse_config(text.str(), env);
  // Whole-document problems are best named by the file itself.
  if (result.error && result.error->key == document_key) result.error->key = file;
  return result;
}

}  // namespace sb
