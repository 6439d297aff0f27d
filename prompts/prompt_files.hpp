#pragma once
// What `switchboard prompts new|lock|list` do to the prompts directory,
// kept here (not in app/) so tests can run them without the gateway.

#include <string>
#include <vector>

#include "prompts/prompt_error.hpp"

namespace sb::prompts {

struct created_version {
  int version = 0;
  std::string path;
};

/// Writes <dir>/<name>/v<N+1>.txt as a copy of the newest version, or an
/// empty v1.txt for a new name (creating the folders). Never overwrites: if
/// the file appears meanwhile the write fails (O_EXCL).
[[nodiscard]] result<created_version> create_next_version(const std::string& dir,
                                                          const std::string& name);

/// Records in prompts.lock the sha256 of every version not yet there and
/// returns their paths (empty when all were locked). Refuses, changing
/// nothing, when a locked file changed or vanished (that is tampering: the
/// error names the file) or when a new version does not parse (once locked it
/// could never be fixed).
[[nodiscard]] result<std::vector<std::string>> lock_new_versions(const std::string& dir);

/// A listing for a person: each prompt, its split, each version and whether
/// it is locked, not locked, changed since locked or missing. Problems are
/// shown, not returned; run prompt_library::load for the verdict.
[[nodiscard]] result<std::string> describe_prompts(const std::string& dir);

}  // namespace sb::prompts
