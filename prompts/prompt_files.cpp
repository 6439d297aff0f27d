#include "prompts/prompt_files.hpp"

#include <filesystem>
#include <optional>
#include <set>

#include "core/workspace_auth.hpp"
#include "prompts/prompt_file_io.hpp"
#include "prompts/prompt_lock.hpp"
#include "prompts/prompt_paths.hpp"
#include "prompts/prompt_template.hpp"
#include "prompts/rollout.hpp"

namespace sb::prompts {

namespace {

prompt_error files_error(const std::string& path, const std::string& problem) {
  return {prompt_error_kind::invalid_files, path + ": " + problem, path};
}

const std::map<int, std::string>* digests_of(const lock_table& lock, const std::string& name) {
  auto it = lock.find(name);
  return it == lock.end() ? nullptr : &it->second;
}

std::optional<std::string> digest_of(const std::map<int, std::string>* digests, int version) {
  if (!digests) return std::nullopt;
  auto it = digests->find(version);
  if (it == digests->end()) return std::nullopt;
  return it->second;
}

std::string describe_split(const rollout& r) {
  std::string s = "stable v" + std::to_string(r.stable);
  if (r.canary)
    s += ", canary v" + std::to_string(r.canary->version) + " for " +
         std::to_string(r.canary->percent) + "% of users";
  return s;
}

}  // namespace

result<created_version> create_next_version(const std::string& dir, const std::string& name) {
  if (!is_valid_prompt_name(name))
    return prompt_error{prompt_error_kind::invalid_files,
                        "'" + name + "' is not a valid prompt name (letters, digits, '_', '-', '.')",
                        name};
  auto tree = scan_prompt_tree(dir);
  if (!tree) return tree.error();

  std::string content;
  int next = 1;
  auto folder = tree.value().folders.find(name);
  if (folder != tree.value().folders.end() && !folder->second.version_paths.empty()) {
    const auto& [newest, newest_path] = *folder->second.version_paths.rbegin();
    auto text = read_whole_file(newest_path);
    if (!text) return text.error();
    content = std::move(text).value();
    next = newest + 1;
  }

  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(dir) / name, ec);
  if (ec)
    return prompt_error{prompt_error_kind::io_failed,
                        "cannot create " + (std::filesystem::path(dir) / name).string() + ": " +
                            ec.message(),
                        dir};
  const std::string path = version_file_path(dir, name, next);
  if (auto e = create_new_file(path, content)) return *e;
  return created_version{next, path};
}

result<std::vector<std::string>> lock_new_versions(const std::string& dir) {
  auto tree = scan_prompt_tree(dir);
  if (!tree) return tree.error();
  const std::string lock_path = lock_file_path(dir);
  auto lock = read_lock_file(lock_path);
  if (!lock) return lock.error();

  for (const auto& [name, versions] : lock.value()) {
    auto folder = tree.value().folders.find(name);
    for (const auto& [number, digest] : versions) {
      (void)digest;
      if (folder == tree.value().folders.end() || !folder->second.version_paths.count(number))
        return files_error(version_file_path(dir, name, number),
                           "prompts.lock records this version but the file is missing: "
                           "restore it (a locked version is never deleted)");
    }
  }

  lock_table updated = lock.value();
  std::vector<std::string> newly_locked;
  for (const auto& [name, folder] : tree.value().folders) {
    const auto* digests = digests_of(lock.value(), name);
    for (const auto& [number, path] : folder.version_paths) {
      auto content = read_whole_file(path);
      if (!content) return content.error();
      const std::string digest = sha256_hex(content.value());
      if (auto recorded = digest_of(digests, number)) {
        if (*recorded != digest)
          return files_error(path, "changed since it was locked (sha256 " + digest +
                                       ", prompts.lock records " + *recorded +
                                       "): prompts lock never rewrites an entry; restore the "
                                       "file and put changes in a new version");
        continue;
      }
      auto parsed = prompt_template::parse(content.value());
      if (!parsed)
        return files_error(path, parsed.error().message + " (fix it before locking: a locked "
                                                          "version cannot change)");
      updated[name][number] = digest;
      newly_locked.push_back(path);
    }
  }

  if (!newly_locked.empty())
    if (auto e = write_lock_file(lock_path, updated)) return *e;
  return newly_locked;
}

result<std::string> describe_prompts(const std::string& dir) {
  auto tree = scan_prompt_tree(dir);
  if (!tree) return tree.error();
  auto lock = read_lock_file(lock_file_path(dir));
  if (!lock) return lock.error();

  std::set<std::string> names;
  for (const auto& [name, folder] : tree.value().folders) names.insert(name);
  for (const auto& [name, versions] : lock.value()) names.insert(name);
  if (names.empty()) return "no prompts in " + dir + "\n";

  std::string out;
  for (const auto& name : names) {
    auto folder_it = tree.value().folders.find(name);
    static const prompt_folder no_folder;
    const prompt_folder& folder = folder_it == tree.value().folders.end() ? no_folder : folder_it->second;
    const auto* digests = digests_of(lock.value(), name);

    std::set<int> numbers;
    for (const auto& [number, path] : folder.version_paths) numbers.insert(number);
    if (digests)
      for (const auto& [number, digest] : *digests) numbers.insert(number);

    std::string lines;
    int newest_locked = 0;
    for (int number : numbers) {
      auto recorded = digest_of(digests, number);
      auto path_it = folder.version_paths.find(number);
      std::string state;
      if (path_it == folder.version_paths.end()) {
        state = "MISSING (prompts.lock records it)";
      } else if (!recorded) {
        state = "not locked";
      } else {
        auto content = read_whole_file(path_it->second);
        if (!content) return content.error();
        if (sha256_hex(content.value()) == *recorded) {
          state = "locked";
          newest_locked = number;
        } else {
          state = "CHANGED since locked";
        }
      }
      lines += "  v" + std::to_string(number) + "  " + state + "\n";
    }

    std::string split;
    auto from_file = read_rollout_file(dir, name);
    if (!from_file)
      split = "rollout.json invalid: " + from_file.error().message;
    else if (from_file.value())
      split = describe_split(*from_file.value()) + " (rollout.json)";
    else if (newest_locked)
      split = "stable v" + std::to_string(newest_locked) + " (newest locked; no rollout.json)";
    else
      split = "nothing served yet (no locked version)";
    out += name + ": " + split + "\n" + lines;
  }
  for (const auto& note : tree.value().notes) out += "note: " + note + "\n";
  return out;
}

}  // namespace sb::prompts
