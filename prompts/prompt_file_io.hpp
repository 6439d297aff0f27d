#pragma once
// The file operations the prompt files need, each crash-safe: a reader (or a
// node restarting after a power cut) sees the old file or the new one, never
// half of one, and a new version never replaces an existing file.

#include <string>

#include "prompts/prompt_error.hpp"

namespace sb::prompts {

/// The whole file as bytes; io_failed naming the path when it cannot be read.
[[nodiscard]] result<std::string> read_whole_file(const std::string& path);

/// Writes `content` to a temporary file beside `path`, fsyncs it, renames it
/// over `path` and fsyncs the directory, so the rename itself survives a crash.
[[nodiscard]] maybe_error write_file_atomically(const std::string& path, const std::string& content);

/// Creates `path` with `content` only if no file of that name exists (O_EXCL:
/// two concurrent writers cannot both succeed); io_failed otherwise.
[[nodiscard]] maybe_error create_new_file(const std::string& path, const std::string& content);

}  // namespace sb::prompts
