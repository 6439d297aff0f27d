#pragma once
// A scratch prompts directory per test, removed afterwards, so tests need no
// fixture files and never share state.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "prompts/prompt_files.hpp"

namespace sb::prompts::testing {

class temp_prompt_dir {
 public:
  temp_prompt_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sb-prompts-XXXXXX").string();
    if (::mkdtemp(pattern.data())) root_ = pattern;
  }
  ~temp_prompt_dir() {
    std::error_code ec;
    if (!root_.empty()) std::filesystem::remove_all(root_, ec);
  }
  temp_prompt_dir(const temp_prompt_dir&) = delete;
  temp_prompt_dir& operator=(const temp_prompt_dir&) = delete;

  /// The prompts directory itself (created on first write).
  [[nodiscard]] std::string dir() const { return root_ + "/prompts"; }
  [[nodiscard]] std::string path(const std::string& relative) const { return dir() + "/" + relative; }

  /// Writes <dir>/<relative>, creating folders; replaces an existing file.
  void write(const std::string& relative, const std::string& content) const {
    std::filesystem::create_directories(std::filesystem::path(path(relative)).parent_path());
    std::ofstream(path(relative), std::ios::binary | std::ios::trunc) << content;
  }

  [[nodiscard]] std::string read(const std::string& relative) const {
    std::ifstream in(path(relative), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  [[nodiscard]] bool exists(const std::string& relative) const {
    return std::filesystem::exists(path(relative));
  }

  /// Writes the versions and locks them, as `switchboard prompts lock` would.
  void write_locked(const std::string& relative, const std::string& content) const {
    write(relative, content);
    auto locked = lock_new_versions(dir());
    if (!locked) throw std::runtime_error(locked.error().message);  // test setup only
  }

 private:
  std::string root_;
};

}  // namespace sb::prompts::testing
