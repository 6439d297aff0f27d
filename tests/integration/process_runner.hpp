#pragma once
// Runs the real switchboard binary as a child process for tests of what only
// a process shows: exit codes, signals, start-up messages.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace sb::testing {

inline std::string switchboard_binary() { return std::string(SB_BINARY_DIR) + "/switchboard"; }

class child_process {
 public:
  /// Starts `args` with `env` added to this process's environment; stderr and
  /// stdout go to a temp file the test can read.
  child_process(std::vector<std::string> args, const std::map<std::string, std::string>& env,
                const std::string& cwd = {}) {
    char tmpl[] = "/tmp/sb-child-XXXXXX";
    int fd = ::mkstemp(tmpl);
    log_path_ = tmpl;
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      auto name = kv.substr(0, kv.find('='));
      if (!env.count(name)) envs.push_back(kv);
    }
    for (auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
    if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(fd);
  }
  ~child_process() {
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
    ::unlink(log_path_.c_str());
  }

  [[nodiscard]] std::string output() const {
    std::string s;
    if (FILE* f = std::fopen(log_path_.c_str(), "r")) {
      char buf[4096];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
      std::fclose(f);
    }
    return s;
  }

  /// Waits for `pattern` in the output; returns the first capture group.
  std::optional<std::string> wait_for_output(const std::string& pattern, std::chrono::milliseconds timeout) {
    std::regex re(pattern);
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      std::smatch m;
      auto out = output();
      if (std::regex_search(out, m, re)) return m.size() > 1 ? m[1].str() : m[0].str();
      if (poll_exit()) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
  }

  void signal(int sig) { ::kill(pid_, sig); }

  /// The exit code once the process ended within `timeout` (128+N for signal N).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (!poll_exit() && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return exit_code_;
  }

 private:
  bool poll_exit() {
    if (exit_code_) return true;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return true;
    }
    return false;
  }

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_path_;
};

}  // namespace sb::testing
