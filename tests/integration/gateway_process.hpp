#pragma once
// Gateway nodes as real processes (the `switchboard` binary, one per node) for
// the cluster and durability tests: a config file on disk, an environment that
// names only the providers the test points at its fakes, and the port each
// node printed. Plus what those tests need around them: a unique workspace id
// per run (so a shared Redis and PostgreSQL keep no state between runs), a free
// loopback port, a test-local redis-server, and concurrent clients.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/http_test_client.hpp"
#include "tests/integration/process_runner.hpp"

namespace sb::testing {

inline std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

/// A fresh suffix per run: "<pid>-<random hex>".
inline std::string unique_suffix() {
  static std::mt19937_64 rng(std::random_device{}() ^
                             static_cast<std::uint64_t>(::getpid()) << 32);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d-%08llx", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(rng() & 0xffffffffULL));
  return buf;
}

/// A temporary folder, removed with everything in it at scope exit.
struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/sb-cluster-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return path + "/" + name; }
  std::string write(const std::string& name, const std::string& content) const {
    auto p = file(name);
    std::ofstream(p) << content;
    return p;
  }
};

/// A loopback port nobody listens on now (the OS picks it).
inline std::uint16_t free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// The full path of a program on PATH (posix_spawn does not search), or "".
inline std::string find_program(const std::string& name) {
  auto path = env_or_empty("PATH");
  std::size_t pos = 0;
  while (pos <= path.size()) {
    auto end = path.find(':', pos);
    if (end == std::string::npos) end = path.size();
    auto candidate = path.substr(pos, end - pos) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    pos = end + 1;
  }
  return {};
}

/// Env for a node: the given providers' keys and base URLs, every other
/// provider's key blanked (the test's own environment must not leak a real
/// key into a child), plus `extra`.
inline std::map<std::string, std::string> node_env(
    const std::map<std::string, std::string>& provider_base_urls,
    const std::map<std::string, std::string>& extra = {}) {
  std::map<std::string, std::string> env = {
      {"OPENROUTER_API_KEY", ""}, {"ANTHROPIC_API_KEY", ""}, {"OPENAI_API_KEY", ""},
      {"GOOGLE_API_KEY", ""},     {"GEMINI_API_KEY", ""},    {"DEEPSEEK_API_KEY", ""},
      {"HUGGINGFACE_API_KEY", ""}, {"HF_TOKEN", ""},        {"REDIS_URL", ""},
      {"DATABASE_URL", ""},       {"GATEWAY_LISTEN", ""},    {"GATEWAY_ADMIN_TOKEN", ""},
      {"LLM_MONTHLY_TOKEN_CAP_PER_WORKSPACE", ""}};
  for (auto& [provider, url] : provider_base_urls) {
    std::string prefix = provider;
    for (auto& c : prefix) c = static_cast<char>(::toupper(c));
    env[prefix + "_API_KEY"] = "sk-" + provider + "-1";
    env[prefix + "_BASE_URL"] = url;
  }
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

/// One gateway process listening on a free loopback port.
class gateway_node {
 public:
  gateway_node(const std::string& config_file, const std::map<std::string, std::string>& env,
               const std::string& cwd = {}) {
    proc_ = std::make_unique<child_process>(
        std::vector<std::string>{switchboard_binary(), "--config", config_file, "--listen", "127.0.0.1:0"},
        env, cwd);
    auto port = proc_->wait_for_output("listening on port (\\d+)", std::chrono::seconds(15));
    if (!port) FAIL("the gateway did not start; its output:\n" << proc_->output());
    port_ = static_cast<std::uint16_t>(std::stoi(*port));
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  child_process& process() { return *proc_; }
  [[nodiscard]] std::string output() const { return proc_->output(); }

 private:
  std::unique_ptr<child_process> proc_;
  std::uint16_t port_ = 0;
};

/// A redis-server of the test's own on `port`, without persistence: stopping
/// it loses every key, as a Redis restart without AOF/RDB does in production.
class local_redis {
 public:
  explicit local_redis(std::uint16_t port) : port_(port) { start(); }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] bool running() const { return proc_ != nullptr; }

  void start() {
    auto bin = find_program("redis-server");
    REQUIRE(!bin.empty());
    proc_ = std::make_unique<child_process>(
        std::vector<std::string>{bin, "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--daemonize", "no"},
        std::map<std::string, std::string>{});
    if (!proc_->wait_for_output("Ready to accept connections", std::chrono::seconds(10)))
      FAIL("redis-server did not start on port " << port_ << ":\n" << proc_->output());
  }
  /// SIGKILL: the data is gone with the process.
  void kill() {
    proc_->signal(SIGKILL);
    proc_->wait_exit(std::chrono::seconds(5));
    proc_.reset();
  }

 private:
  std::uint16_t port_;
  std::unique_ptr<child_process> proc_;
};

/// Runs `n` calls of `fn(i)` on `n` threads released together, and waits for all.
template <class Fn>
void run_concurrently(int n, Fn fn) {
  std::atomic<bool> go{false};
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      ++ready;
      while (!go.load()) std::this_thread::yield();
      fn(i);
    });
  while (ready.load() < n) std::this_thread::yield();
  go = true;
  for (auto& t : threads) t.join();
}

/// A request on a new connection that never throws: status 0 when the
/// connection failed or broke (what a client sees of a node going away).
inline http_response try_request(std::uint16_t port, const std::string& method, const std::string& path,
                                 const std::string& body = {},
                                 const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  try {
    http_connection c(port);
    c.send_request(method, path, body, headers);
    return c.read_response(std::chrono::seconds(15));
  } catch (const std::exception&) {
    return {};
  }
}

/// The value of one Prometheus sample line (`name{labels} value`), 0 if absent.
inline double metric_value(const std::string& exposition, const std::string& series) {
  auto pos = exposition.find("\n" + series + " ");
  if (pos == std::string::npos) return 0;
  pos += series.size() + 2;
  return std::stod(exposition.substr(pos, exposition.find('\n', pos) - pos));
}

}  // namespace sb::testing
