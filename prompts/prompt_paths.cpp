#include "prompts/prompt_paths.hpp"

#include <filesystem>
#include <system_error>

namespace sb::prompts {

namespace fs = std::filesystem;

namespace {

// Files a prompt folder may hold besides versions without a note: the
// rollout, and editor or VCS leftovers (hidden files).
bool is_quietly_ignored(const std::string& file_name) {
  return file_name == "rollout.json" || file_name.empty() || file_name[0] == '.';
}

}  // namespace

bool is_valid_prompt_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::optional<int> version_of_file_name(std::string_view file_name) {
  constexpr std::string_view prefix = "v", suffix = ".txt";
  if (file_name.size() <= prefix.size() + suffix.size()) return std::nullopt;
  if (file_name.substr(0, 1) != prefix) return std::nullopt;
  if (file_name.substr(file_name.size() - suffix.size()) != suffix) return std::nullopt;
  std::string_view digits = file_name.substr(1, file_name.size() - 1 - suffix.size());
  if (digits.size() > 9 || digits[0] == '0') return std::nullopt;  // 9 digits fit an int
  int value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string lock_file_path(const std::string& dir) { return (fs::path(dir) / "prompts.lock").string(); }

std::string version_file_path(const std::string& dir, const std::string& name, int version) {
  return (fs::path(dir) / name / ("v" + std::to_string(version) + ".txt")).string();
}

std::string rollout_file_path(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name / "rollout.json").string();
}

result<prompt_tree> scan_prompt_tree(const std::string& dir) {
  prompt_tree tree;
  std::error_code ec;
  auto status = fs::status(dir, ec);
  if (ec || !fs::exists(status)) return tree;
  if (!fs::is_directory(status))
    return prompt_error{prompt_error_kind::invalid_files,
                        "the prompts directory " + dir + " is not a directory", dir};

  auto io_error = [&](const std::string& path) {
    return prompt_error{prompt_error_kind::io_failed, "cannot list " + path + ": " + ec.message(), path};
  };
  for (fs::directory_iterator top(dir, ec), end; !ec && top != end; top.increment(ec)) {
    const std::string entry_name = top->path().filename().string();
    if (!top->is_directory(ec) || entry_name[0] == '.') continue;  // prompts.lock, .git, ...
    if (!is_valid_prompt_name(entry_name))
      return prompt_error{prompt_error_kind::invalid_files,
                          top->path().string() +
                              ": not a valid prompt name (letters, digits, '_', '-', '.')",
                          top->path().string()};
    prompt_folder folder{entry_name, {}, false};
    for (fs::directory_iterator file(top->path(), ec); !ec && file != end; file.increment(ec)) {
      const std::string file_name = file->path().filename().string();
      auto version = version_of_file_name(file_name);
      if (version && file->is_regular_file(ec)) {
        folder.version_paths[*version] = file->path().string();
      } else if (file_name == "rollout.json") {
        folder.has_rollout_file = true;
      } else if (!is_quietly_ignored(file_name)) {
        tree.notes.push_back(file->path().string() + " is ignored: versions are named v<N>.txt");
      }
    }
    if (ec) return io_error(top->path().string());
    tree.folders.emplace(entry_name, std::move(folder));
  }
  if (ec) return io_error(dir);
  return tree;
}

}  // namespace sb::prompts
