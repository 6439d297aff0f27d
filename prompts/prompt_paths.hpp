#pragma once
// Where each thing lives under the prompts directory (SPEC section 8):
//   <dir>/prompts.lock            sha256 of every locked version
//   <dir>/<name>/v<N>.txt         version N of prompt <name>, N = 1, 2, ...
//   <dir>/<name>/rollout.json     the stable/canary split
// and a scan of that tree that reads no file contents.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prompts/prompt_error.hpp"

namespace sb::prompts {

/// A prompt name travels in URLs, headers ("name@v3") and paths: letters,
/// digits, '_', '-' and '.', 1..128 of them, not starting with '.'.
[[nodiscard]] bool is_valid_prompt_name(std::string_view name);

/// "v3.txt" -> 3; nullopt for anything else (v0.txt, v03.txt, v3.md, ...).
[[nodiscard]] std::optional<int> version_of_file_name(std::string_view file_name);

[[nodiscard]] std::string lock_file_path(const std::string& dir);
[[nodiscard]] std::string version_file_path(const std::string& dir, const std::string& name, int version);
[[nodiscard]] std::string rollout_file_path(const std::string& dir, const std::string& name);

/// One <dir>/<name>/ folder as found on disk.
struct prompt_folder {
  std::string name;
  std::map<int, std::string> version_paths;  // version -> path, ascending
  bool has_rollout_file = false;
};

/// The prompts directory as found on disk; `notes` lists what was skipped
/// (stray files), for the caller to log.
struct prompt_tree {
  std::map<std::string, prompt_folder> folders;
  std::vector<std::string> notes;
};

/// Lists `dir`. A missing directory is an empty tree, not an error: a gateway
/// without prompts needs no folder. A folder whose name is not a valid prompt
/// name is an error naming it (it could never be served).
[[nodiscard]] result<prompt_tree> scan_prompt_tree(const std::string& dir);

}  // namespace sb::prompts
