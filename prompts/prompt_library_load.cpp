// prompt_library::load: reads the prompts directory into a snapshot and
// refuses one whose locked files were changed (SPEC section 8).

#include <set>

#include "core/workspace_auth.hpp"
#include "prompts/prompt_file_io.hpp"
#include "prompts/prompt_library.hpp"
#include "prompts/prompt_lock.hpp"
#include "prompts/prompt_paths.hpp"

namespace sb::prompts {

namespace {

prompt_error files_error(const std::string& path, const std::string& problem) {
  return {prompt_error_kind::invalid_files, path + ": " + problem, path};
}

// Every lock entry needs its file: deleting a deployed version is as much a
// change to it as editing it.
maybe_error check_locked_files_exist(const std::string& dir, const lock_table& lock,
                                     const prompt_tree& tree) {
  for (const auto& [name, versions] : lock) {
    auto folder = tree.folders.find(name);
    for (const auto& [number, digest] : versions) {
      (void)digest;
      if (folder == tree.folders.end() || !folder->second.version_paths.count(number)) {
        const std::string path = version_file_path(dir, name, number);
        return files_error(path, "prompts.lock records this version but the file is missing "
                                 "(a locked version is never deleted)");
      }
    }
  }
  return std::nullopt;
}

result<prompt_version> load_version(int number, const std::string& path,
                                    const std::map<int, std::string>* locked_digests,
                                    std::vector<std::string>& warnings) {
  auto content = read_whole_file(path);
  if (!content) return content.error();
  prompt_version v;
  v.number = number;
  v.path = path;
  v.sha256 = sha256_hex(content.value());

  const std::string* locked_digest = nullptr;
  if (locked_digests) {
    auto it = locked_digests->find(number);
    if (it != locked_digests->end()) locked_digest = &it->second;
  }
  if (locked_digest && *locked_digest != v.sha256)
    return files_error(path, "changed since it was locked (sha256 " + v.sha256 +
                                 ", prompts.lock records " + *locked_digest +
                                 "): restore it, and put changes in a new version "
                                 "(`switchboard prompts new NAME`)");
  v.locked = locked_digest != nullptr;

  auto parsed = prompt_template::parse(content.value());
  if (parsed) {
    v.tmpl = std::make_shared<const prompt_template>(std::move(parsed).value());
  } else if (v.locked) {
    return files_error(path, parsed.error().message);
  } else {
    warnings.push_back(path + ": " + parsed.error().message + " (not locked, not served)");
  }
  if (!v.locked)
    warnings.push_back(path + " is not locked, so it is not served: run `switchboard prompts lock`");
  return v;
}

}  // namespace

result<std::shared_ptr<const prompt_library>> prompt_library::load(const std::string& dir) {
  auto tree = scan_prompt_tree(dir);
  if (!tree) return tree.error();
  auto lock = read_lock_file(lock_file_path(dir));
  if (!lock) return lock.error();
  if (auto e = check_locked_files_exist(dir, lock.value(), tree.value())) return *e;

  auto library = std::make_shared<prompt_library>();
  library->dir_ = dir;
  library->warnings_ = tree.value().notes;
  for (const auto& [name, folder] : tree.value().folders) {
    prompt p;
    p.name = name;
    auto locked = lock.value().find(name);
    const auto* digests = locked == lock.value().end() ? nullptr : &locked->second;
    std::set<int> servable;
    for (const auto& [number, path] : folder.version_paths) {
      auto v = load_version(number, path, digests, library->warnings_);
      if (!v) return v.error();
      if (v.value().servable()) servable.insert(number);
      p.versions.emplace(number, std::move(v).value());
    }

    auto split = read_rollout_file(dir, name);
    if (!split) return split.error();
    if (split.value()) {
      if (auto e = check_rollout_versions(*split.value(), servable, name))
        return files_error(rollout_file_path(dir, name), e->message);
      p.rollout_file = split.value();
    }
    library->prompts_.emplace(name, std::move(p));
  }
  return std::shared_ptr<const prompt_library>(std::move(library));
}

}  // namespace sb::prompts
