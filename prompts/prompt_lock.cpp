#include "prompts/prompt_lock.hpp"

#include <cerrno>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "prompts/prompt_file_io.hpp"
#include "prompts/prompt_paths.hpp"

namespace sb::prompts {

namespace {

bool is_sha256_hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

result<lock_table> read_lock_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return lock_table{};
  auto content = read_whole_file(path);
  if (!content) return content.error();

  auto bad = [&](const std::string& problem) {
    return prompt_error{prompt_error_kind::invalid_files, path + ": " + problem, path};
  };
  auto document = nlohmann::json::parse(content.value(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return bad("not valid JSON");
  if (!document.is_object())
    return bad("expected an object {\"name\": {\"1\": \"<sha256>\"}}");

  lock_table table;
  for (const auto& [name, versions] : document.items()) {
    if (!is_valid_prompt_name(name)) return bad("\"" + name + "\" is not a valid prompt name");
    if (!versions.is_object()) return bad("\"" + name + "\" must map versions to sha256 digests");
    auto& locked = table[name];
    for (const auto& [key, digest] : versions.items()) {
      auto version = version_of_file_name("v" + key + ".txt");
      if (!version) return bad("\"" + name + "\": \"" + key + "\" is not a version number");
      if (!digest.is_string() || !is_sha256_hex(digest.get<std::string>()))
        return bad("\"" + name + "\".\"" + key + "\" must be a lowercase sha256 hex digest");
      locked[*version] = digest.get<std::string>();
    }
  }
  return table;
}

std::string lock_file_text(const lock_table& table) {
  // ordered_json keeps insertion order: versions stay numeric (2 before 10).
  nlohmann::ordered_json document = nlohmann::ordered_json::object();
  for (const auto& [name, versions] : table) {
    if (versions.empty()) continue;
    auto& entry = document[name] = nlohmann::ordered_json::object();
    for (const auto& [version, digest] : versions) entry[std::to_string(version)] = digest;
  }
  return document.dump(2) + "\n";
}

maybe_error write_lock_file(const std::string& path, const lock_table& table) {
  return write_file_atomically(path, lock_file_text(table));
}

}  // namespace sb::prompts
