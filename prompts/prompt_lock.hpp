#pragma once
// prompts.lock: the sha256 of every deployed version, which makes a deployed
// version immutable (SPEC section 8). JSON, one object per prompt, versions
// in numeric order, so a diff in review shows exactly what was locked:
//   {"greeting": {"1": "<sha256 hex>", "2": "<sha256 hex>"}}

#include <map>
#include <string>

#include "prompts/prompt_error.hpp"

namespace sb::prompts {

/// prompt name -> version -> lowercase sha256 hex of the file's bytes.
using lock_table = std::map<std::string, std::map<int, std::string>>;

/// Reads and checks a lock file; a missing file is an empty table (nothing is
/// locked yet). Malformed content is invalid_files naming the path.
[[nodiscard]] result<lock_table> read_lock_file(const std::string& path);

/// The file's text: indented JSON, versions in numeric order, a final newline.
[[nodiscard]] std::string lock_file_text(const lock_table& table);

/// Replaces the lock file atomically.
[[nodiscard]] maybe_error write_lock_file(const std::string& path, const lock_table& table);

}  // namespace sb::prompts
