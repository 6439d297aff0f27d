#pragma once
// The gateway's configuration: one immutable snapshot built at start (and on
// SIGHUP) from the JSON file and the environment. SPEC sections 1-3.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sb {

/// The wire format a provider speaks; one adapter per format.
enum class wire_format { openai_chat, anthropic_messages, gemini };

struct api_key {
  std::string id;      // "openai#1" … "openai#5": the only name logs and metrics use
  std::string secret;  // never logged, returned or exported
};

struct provider_config {
  std::string id;        // openrouter, anthropic, openai, google, deepseek, huggingface
  wire_format format = wire_format::openai_chat;
  std::string base_url;  // scheme://host[:port][/prefix], no trailing slash
  std::vector<api_key> keys;       // at most five; empty = not in the cascade
  std::vector<std::string> models; // the model cascade within this provider
  std::map<std::string, std::string> extra_headers;  // e.g. OpenAI-Organization
};

struct workspace_config {
  std::string id;
  std::vector<std::string> api_key_sha256;  // lowercase hex
  std::optional<std::int64_t> monthly_token_cap;
  std::optional<double> monthly_cost_cap_usd;
};

struct price {
  double input_per_mtok = 0;
  double output_per_mtok = 0;
};

struct retry_config {
  int server_error_retries = 3;
  std::chrono::milliseconds backoff_base{200};
  std::chrono::milliseconds backoff_max{5000};
  std::chrono::milliseconds max_wait_for_key{2000};
  std::chrono::seconds quota_skip{300};
};

struct timeout_config {
  std::chrono::milliseconds connect{3000};
  std::chrono::milliseconds first_byte{30000};
  std::chrono::milliseconds total{120000};
};

struct limits_config {
  std::size_t max_body_bytes = 8u << 20;
  std::size_t max_header_bytes = 16u << 10;
  std::chrono::milliseconds read_timeout{30000};   // a request must arrive whole within this
  std::chrono::milliseconds idle_timeout{60000};   // keep-alive connection with no request
  std::chrono::milliseconds drain{10000};          // SIGTERM: wait this long for in-flight work
};

struct quota_config {
  std::int64_t default_reservation_tokens = 4096;
};

struct streams_config {
  std::chrono::milliseconds resume_grace{0};
  std::chrono::milliseconds persist_every{200};
};

/// SPEC 9 (not named there): how long a paused tool loop waits for a person.
struct tool_confirmations_config {
  std::chrono::milliseconds expiry{15 * 60 * 1000};
};

struct gateway_config {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;

  std::vector<std::string> chain;              // provider ids in cascade order
  std::vector<provider_config> providers;      // only those in `chain`, in chain order, with keys
  std::map<std::string, std::vector<std::string>> aliases;  // alias -> ["provider/model", …]
  std::vector<workspace_config> workspaces;    // empty = the one open workspace "default"
  std::map<std::string, price> prices;         // "provider/model" -> price
  retry_config retry;
  timeout_config timeouts;
  limits_config limits;
  quota_config quota;
  streams_config streams;
  tool_confirmations_config tool_confirmations;
  std::string prompts_dir = "prompts";
  nlohmann::json tools = nlohmann::json::array();  // validated by the tool registry

  std::optional<std::int64_t> default_monthly_token_cap;  // LLM_MONTHLY_TOKEN_CAP_PER_WORKSPACE
  std::string redis_url;     // empty = embedded (in-process) mode
  std::string database_url;  // empty = ./switchboard.db
  std::string admin_token;   // empty = /admin is closed
  /// GATEWAY_IO_THREADS: threads that run sockets and actors; none = one per core.
  std::optional<std::size_t> io_threads;

  [[nodiscard]] const provider_config* find_provider(const std::string& id) const;
  /// Searches `workspaces` only (the open-mode "default" is not in it).
  [[nodiscard]] const workspace_config* find_workspace(const std::string& id) const;
  /// The workspace's own monthly_token_cap, else the env-wide default, else none.
  [[nodiscard]] std::optional<std::int64_t> token_cap_for(const workspace_config& ws) const;
  /// True when no workspace is configured: one open workspace "default".
  [[nodiscard]] bool open_mode() const { return workspaces.empty(); }
};

/// The six providers SPEC section 2 knows, in the default cascade order.
const std::vector<std::string>& known_provider_ids();

/// A config problem that stops the start: names the key and what is wrong.
struct config_error {
  std::string key;      // e.g. "retry.backoff_base_ms" or "OPENAI_BASE_URL"
  std::string problem;  // e.g. "must be a non-negative integer, got \"abc\""
  [[nodiscard]] std::string to_string() const { return key + ": " + problem; }
};

/// Reads the environment the gateway cares about; injectable for tests.
using environment = std::map<std::string, std::string>;
environment process_environment();

/// Builds the snapshot. `file` is the config file's path; empty means "none"
/// (defaults only). Env values win over the file for keys and URLs.
/// Returns the snapshot or the first problem found.
struct config_result {
  std::optional<gateway_config> config;
  std::optional<config_error> error;
};
config_result load_config(const std::string& file, const environment& env);
/// Same, from JSON text already read (for tests and reloads).
config_result parse_config(const std::string& json_text, const environment& env);

/// "host:port" -> host and port, for --listen and GATEWAY_LISTEN.
std::optional<std::pair<std::string, std::uint16_t>> parse_listen_address(const std::string& s);
/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

}  // namespace sb
