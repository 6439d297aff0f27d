#pragma once
// A whole gateway in-process on a free loopback port, its providers pointed
// at fake providers over real sockets. Tests talk to it with the plain client.

#include <filesystem>
#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "app/gateway.hpp"
#include "core/config.hpp"
#include "tests/fakes/fake_provider.hpp"
#include "tests/integration/http_test_client.hpp"

namespace sb::testing {

/// Env that points every provider in `providers` at `base_url` with one key
/// each ("sk-<provider>-1"), plus whatever `extra` adds.
inline environment fake_env(const std::string& base_url, std::initializer_list<std::string> providers,
                            environment extra = {}) {
  environment env;
  for (auto& p : providers) {
    std::string prefix = p;
    for (auto& c : prefix) c = static_cast<char>(::toupper(c));
    env[prefix + "_API_KEY"] = "sk-" + p + "-1";
    // OpenAI-format providers put /v1 (or another prefix) in the base URL;
    // Anthropic and Gemini add their own versioned paths.
    env[prefix + "_BASE_URL"] = (p == "anthropic" || p == "google") ? base_url : base_url + "/v1";
  }
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

/// Config JSON with fast retries so that the table's rows run in milliseconds.
inline std::string fast_config(nlohmann::json overrides = nlohmann::json::object()) {
  nlohmann::json c = {{"retry",
                       {{"server_error_retries", 3},
                        {"backoff_base_ms", 5},
                        {"backoff_max_ms", 40},
                        {"max_wait_for_key_ms", 300},
                        {"quota_skip_s", 300}}},
                      {"timeouts", {{"connect_ms", 1000}, {"first_byte_ms", 3000}, {"total_ms", 10000}}}};
  c.merge_patch(overrides);
  return c.dump();
}

struct running_gateway {
  std::string db_dir;  // the embedded ledger of this gateway, removed after
  std::unique_ptr<gateway> gw;
  explicit running_gateway(const std::string& config_json, const environment& env,
                           gateway_options opts = {}) {
    auto r = parse_config(config_json, env);
    if (r.error) FAIL("config: " << r.error->to_string());
    auto cfg = std::move(*r.config);
    cfg.listen_host = "127.0.0.1";
    cfg.listen_port = 0;
    if (cfg.database_url.empty()) {
      char tmpl[] = "/tmp/sb-ledger-XXXXXX";
      db_dir = ::mkdtemp(tmpl);
      cfg.database_url = db_dir + "/switchboard.db";
    }
    gw = std::make_unique<gateway>(std::move(cfg), std::move(opts));
    auto err = gw->start();
    if (!err.empty()) FAIL("start: " << err);
  }
  ~running_gateway() {
    gw.reset();
    if (!db_dir.empty()) std::filesystem::remove_all(db_dir);
  }
  running_gateway(const running_gateway&) = delete;
  running_gateway& operator=(const running_gateway&) = delete;
  [[nodiscard]] std::uint16_t port() const { return gw->port(); }

  http_response chat(const nlohmann::json& body, std::vector<std::pair<std::string, std::string>> headers = {}) {
    return http_request(port(), "POST", "/v1/chat/completions", body.dump(), headers);
  }
};

inline nlohmann::json user_message(const std::string& model, const std::string& text = "Hello") {
  return {{"model", model}, {"messages", {{{"role", "user"}, {"content", text}}}}};
}

/// The SSE `data:` payloads of a streamed body, in order.
inline std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    auto end = body.find('\n', pos);
    out.push_back(body.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  return out;
}

/// The concatenated delta.content of a streamed body.
inline std::string streamed_text(const std::string& body) {
  std::string text;
  for (auto& d : sse_data(body)) {
    if (d == "[DONE]") continue;
    auto j = nlohmann::json::parse(d);
    for (auto& c : j.value("choices", nlohmann::json::array()))
      if (c.contains("delta") && c["delta"].contains("content") && c["delta"]["content"].is_string())
        text += c["delta"]["content"].get<std::string>();
  }
  return text;
}

/// Asks `model` once for a whole answer and once streamed: both say `text`,
/// and the stream ends with [DONE].
inline void check_whole_and_streamed(running_gateway& gw, const std::string& model, const std::string& text) {
  auto r = gw.chat(user_message(model));
  REQUIRE(r.status == 200);
  CHECK(nlohmann::json::parse(r.body)["choices"][0]["message"]["content"] == text);
  auto body = user_message(model);
  body["stream"] = true;
  auto s = gw.chat(body);
  REQUIRE(s.status == 200);
  CHECK(streamed_text(s.body) == text);
  CHECK(sse_data(s.body).back() == "[DONE]");
}

}  // namespace sb::testing

#include "core/workspace_auth.hpp"
namespace sb::testing {
inline std::string sha256_of(const std::string& s) { return sb::sha256_hex(s); }
}  // namespace sb::testing
