// SPEC section 3: the JSON file, strictly validated, every problem named.

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "core/config.hpp"

using namespace sb;

namespace {

const char* const spec_example = R"({
  "chain": ["openrouter", "anthropic", "openai", "google", "deepseek", "huggingface"],
  "aliases": { "fast": ["openai/gpt-4o-mini", "google/gemini-2.0-flash"] },
  "workspaces": [
    { "id": "acme", "api_key_sha256": ["9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"],
      "monthly_token_cap": 10000000, "monthly_cost_cap_usd": 500 }
  ],
  "prices": { "openai/gpt-4o": { "input_per_mtok": 2.5, "output_per_mtok": 10.0 } },
  "retry": { "server_error_retries": 3, "backoff_base_ms": 200, "backoff_max_ms": 5000,
             "max_wait_for_key_ms": 2000, "quota_skip_s": 300 },
  "timeouts": { "connect_ms": 3000, "first_byte_ms": 30000, "total_ms": 120000 },
  "quota": { "default_reservation_tokens": 4096 },
  "streams": { "resume_grace_ms": 0, "persist_every_ms": 200 },
  "limits": { "max_body_bytes": 1048576, "max_header_bytes": 8192, "read_timeout_ms": 5000,
              "idle_timeout_ms": 7000, "drain_ms": 2500 },
  "prompts_dir": "prompts",
  "tools": [
    { "name": "refund_order", "description": "Refund an order",
      "input_schema": { "type": "object", "properties": { "order_id": { "type": "string" } },
                        "required": ["order_id"], "additionalProperties": false },
      "output_schema": { "type": "object", "required": ["refunded"] },
      "endpoint": "http://127.0.0.1:7001/refund", "sensitive": true, "timeout_ms": 5000 }
  ]
})";

config_error must_fail(const std::string& json, const environment& env = {}) {
  auto result = parse_config(json, env);
  REQUIRE_FALSE(result.config);
  REQUIRE(result.error);
  return *result.error;
}

/// A scratch file removed when the test ends.
struct temp_file {
  std::string path;
  explicit temp_file(const std::string& content) {
    char name[] = "/tmp/switchboard-config-XXXXXX";
    int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = name;
    std::ofstream(path) << content;
  }
  ~temp_file() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("SPEC section 3's example file loads with every value in place") {
  auto result = parse_config(spec_example, {{"OPENAI_API_KEY", "k"}});
  INFO((result.error ? result.error->to_string() : std::string("ok")));
  REQUIRE(result.config);
  const auto& cfg = *result.config;
  CHECK(cfg.aliases.at("fast") == std::vector<std::string>{"openai/gpt-4o-mini", "google/gemini-2.0-flash"});
  REQUIRE(cfg.workspaces.size() == 1);
  CHECK_FALSE(cfg.open_mode());
  CHECK(cfg.workspaces[0].id == "acme");
  // Uppercase hex is accepted and stored lowercase.
  CHECK(cfg.workspaces[0].api_key_sha256 ==
        std::vector<std::string>{"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"});
  CHECK(cfg.workspaces[0].monthly_token_cap == std::optional<std::int64_t>(10000000));
  CHECK(cfg.workspaces[0].monthly_cost_cap_usd == std::optional<double>(500));
  CHECK(cfg.prices.at("openai/gpt-4o").input_per_mtok == 2.5);
  CHECK(cfg.prices.at("openai/gpt-4o").output_per_mtok == 10.0);
  CHECK(cfg.limits.max_body_bytes == 1048576);
  CHECK(cfg.limits.max_header_bytes == 8192);
  CHECK(cfg.limits.read_timeout.count() == 5000);
  CHECK(cfg.limits.idle_timeout.count() == 7000);
  CHECK(cfg.limits.drain.count() == 2500);
  REQUIRE(cfg.tools.size() == 1);
  CHECK(cfg.tools[0]["name"] == "refund_order");
  CHECK(cfg.find_workspace("acme") == &cfg.workspaces[0]);
  CHECK(cfg.find_workspace("nope") == nullptr);
}

TEST_CASE("file values replace the defaults") {
  auto result = parse_config(R"({"retry": {"server_error_retries": 0, "backoff_base_ms": 10,
      "backoff_max_ms": 20, "max_wait_for_key_ms": 0, "quota_skip_s": 60},
      "timeouts": {"connect_ms": 100, "first_byte_ms": 200, "total_ms": 300},
      "quota": {"default_reservation_tokens": 100},
      "streams": {"resume_grace_ms": 5000, "persist_every_ms": 50},
      "tool_confirmations": {"expiry_ms": 60000},
      "prompts_dir": "/etc/switchboard/prompts"})", {});
  REQUIRE(result.config);
  const auto& cfg = *result.config;
  CHECK(cfg.retry.server_error_retries == 0);
  CHECK(cfg.retry.backoff_base.count() == 10);
  CHECK(cfg.retry.backoff_max.count() == 20);
  CHECK(cfg.retry.max_wait_for_key.count() == 0);
  CHECK(cfg.retry.quota_skip.count() == 60);
  CHECK(cfg.timeouts.connect.count() == 100);
  CHECK(cfg.timeouts.first_byte.count() == 200);
  CHECK(cfg.timeouts.total.count() == 300);
  CHECK(cfg.quota.default_reservation_tokens == 100);
  CHECK(cfg.streams.resume_grace.count() == 5000);
  CHECK(cfg.streams.persist_every.count() == 50);
  CHECK(cfg.tool_confirmations.expiry.count() == 60000);
  CHECK(cfg.prompts_dir == "/etc/switchboard/prompts");
}

TEST_CASE("a workspace's own cap beats the env-wide default - which covers the rest") {
  auto result = parse_config(R"({"workspaces": [
      {"id": "capped", "api_key_sha256": [], "monthly_token_cap": 5},
      {"id": "uncapped", "api_key_sha256": []}]})",
                             {{"LLM_MONTHLY_TOKEN_CAP_PER_WORKSPACE", "1000"}});
  REQUIRE(result.config);
  const auto& cfg = *result.config;
  CHECK(cfg.token_cap_for(cfg.workspaces[0]) == std::optional<std::int64_t>(5));
  CHECK(cfg.token_cap_for(cfg.workspaces[1]) == std::optional<std::int64_t>(1000));
  auto no_env = parse_config(R"({"workspaces": [{"id": "w", "api_key_sha256": []}]})", {});
  REQUIRE(no_env.config);
  CHECK_FALSE(no_env.config->token_cap_for(no_env.config->workspaces[0]));
}

TEST_CASE("each kind of bad value names its key path and the problem") {
  const std::string hash(64, 'a');
  struct bad_case {
    std::string json;
    std::string key;
    std::string says;  // a fragment of the problem text
  };
  const std::vector<bad_case> cases = {
      {R"([1, 2])", "(top level)", "expected a JSON object"},
      {R"({"chian": []})", "chian", "unknown key"},
      {R"({"chain": "openai"})", "chain", "expected an array, got the string \"openai\""},
      {R"({"chain": ["openai", "mistral"]})", "chain[1]", "unknown provider \"mistral\""},
      {R"({"chain": ["openai", "openai"]})", "chain[1]", "listed twice"},
      {R"({"chain": [1]})", "chain[0]", "expected a string, got the number 1"},
      {R"({"aliases": []})", "aliases", "expected an object"},
      {R"({"aliases": {"fast": "openai/gpt-4o"}})", "aliases.fast", "expected an array"},
      {R"({"aliases": {"fast": []}})", "aliases.fast", "at least one"},
      {R"({"aliases": {"fast": ["gpt-4o"]}})", "aliases.fast[0]", "provider/model"},
      {R"({"aliases": {"fast": ["openai/"]}})", "aliases.fast[0]", "provider/model"},
      {R"({"aliases": {"fast": ["mistral/large"]}})", "aliases.fast[0]", "unknown provider"},
      {R"({"aliases": {"fast": ["openai/a", "openai/a"]}})", "aliases.fast[1]", "twice"},
      {R"({"aliases": {"auto": ["openai/a"]}})", "aliases.auto", "reserved"},
      {R"({"aliases": {"openai/x": ["openai/a"]}})", "aliases[\"openai/x\"]", "provider/model"},
      {R"({"workspaces": {}})", "workspaces", "expected an array"},
      {R"({"workspaces": [{"api_key_sha256": []}]})", "workspaces[0].id", "required"},
      {R"({"workspaces": [{"id": "", "api_key_sha256": []}]})", "workspaces[0].id", "expected 1-64"},
      {R"({"workspaces": [{"id": "a b", "api_key_sha256": []}]})", "workspaces[0].id", "expected 1-64"},
      {R"({"workspaces": [{"id": "a"}]})", "workspaces[0].api_key_sha256", "required"},
      {R"({"workspaces": [{"id": "a", "api_key_sha256": "x"}]})", "workspaces[0].api_key_sha256", "expected an array"},
      {R"({"workspaces": [{"id": "a", "api_key_sha256": []}, {"id": "b", "api_key_sha256": ["abc"]}]})",
       "workspaces[1].api_key_sha256[0]", "64 hex"},
      {R"({"workspaces": [{"id": "a", "api_key_sha256": [")" + std::string(63, 'a') + R"(g"]}]})",
       "workspaces[0].api_key_sha256[0]", "64 hex"},
      {R"({"workspaces": [{"id": "a", "api_key_sha256": []}, {"id": "a", "api_key_sha256": []}]})",
       "workspaces[1].id", "duplicate workspace id"},
      {R"({"workspaces": [{"id": "a", "api_key_sha256": [")" + hash + R"("]}, {"id": "b", "api_key_sha256": [")" + hash + R"("]}]})",
       "workspaces[1].api_key_sha256[0]", "also belongs to workspace \"a\""},
      {R"({"workspaces": [{"id": "a", "api_key_sha256": [], "monthly_token_cap": -1}]})",
       "workspaces[0].monthly_token_cap", "non-negative integer, got the number -1"},
      {R"({"workspaces": [{"id": "a", "api_key_sha256": [], "monthly_token_cap": 1.5}]})",
       "workspaces[0].monthly_token_cap", "integer"},
      {R"({"workspaces": [{"id": "a", "api_key_sha256": [], "monthly_cost_cap_usd": "5"}]})",
       "workspaces[0].monthly_cost_cap_usd", "non-negative number, got the string \"5\""},
      {R"({"workspaces": [{"id": "a", "api_key_sha256": [], "cap": 5}]})", "workspaces[0].cap", "unknown key"},
      {R"({"prices": {"gpt-4o": {"input_per_mtok": 1, "output_per_mtok": 1}}})", "prices.gpt-4o", "provider/model"},
      {R"({"prices": {"openai/gpt-4o": {"input_per_mtok": 1}}})", "prices[\"openai/gpt-4o\"].output_per_mtok", "required"},
      {R"({"prices": {"openai/gpt-4o": {"input_per_mtok": -1, "output_per_mtok": 1}}})",
       "prices[\"openai/gpt-4o\"].input_per_mtok", "non-negative"},
      {R"({"prices": {"openai/gpt-4o": 2.5}})", "prices[\"openai/gpt-4o\"]", "expected an object"},
      {R"({"retry": {"server_error_retries": -1}})", "retry.server_error_retries", "got the number -1"},
      {R"({"retry": {"backoff_base_ms": "200"}})", "retry.backoff_base_ms", "got the string \"200\""},
      {R"({"retry": {"backoff_base_ms": 9000}})", "retry.backoff_base_ms", "must not exceed retry.backoff_max_ms"},
      {R"({"retry": {"max_wait_for_key_ms": -5}})", "retry.max_wait_for_key_ms", "from 0 to 86400000, got the number -5"},
      {R"({"retry": {"quota_skip_s": null}})", "retry.quota_skip_s", "got null"},
      {R"({"retry": {"retries": 3}})", "retry.retries", "unknown key"},
      {R"({"retry": 3})", "retry", "expected an object"},
      {R"({"timeouts": {"connect_ms": 0}})", "timeouts.connect_ms", "from 1 to"},
      {R"({"timeouts": {"total_ms": -1}})", "timeouts.total_ms", "got the number -1"},
      {R"({"limits": {"max_body_bytes": -1}})", "limits.max_body_bytes", "got the number -1"},
      {R"({"limits": {"drain_ms": true}})", "limits.drain_ms", "got true"},
      {R"({"limits": {"idle_timeout_ms": 0}})", "limits.idle_timeout_ms", "from 1 to"},
      {R"({"limits": {"max_body": 5}})", "limits.max_body", "unknown key"},
      {R"({"quota": {"default_reservation_tokens": -4096}})", "quota.default_reservation_tokens", "non-negative"},
      {R"({"streams": {"resume_grace_ms": -1}})", "streams.resume_grace_ms", "got the number -1"},
      {R"({"streams": {"persist_every_ms": 0}})", "streams.persist_every_ms", "from 1 to"},
      {R"({"tool_confirmations": {"expiry_ms": 0}})", "tool_confirmations.expiry_ms", "from 1 to"},
      {R"({"tool_confirmations": {"expiry_ms": "15m"}})", "tool_confirmations.expiry_ms", "got"},
      {R"({"tool_confirmations": {"ttl": 5}})", "tool_confirmations.ttl", "unknown key"},
      {R"({"prompts_dir": 5})", "prompts_dir", "expected a string"},
      {R"({"prompts_dir": ""})", "prompts_dir", "empty"},
      {R"({"tools": {}})", "tools", "expected an array"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    auto e = must_fail(c.json);
    CHECK(e.key == c.key);
    INFO(e.problem);
    CHECK(e.problem.find(c.says) != std::string::npos);
  }
}

TEST_CASE("JSON that does not parse is an error with its position") {
  auto e = must_fail("{\n  \"chain\": [\"openai\",]\n}");
  CHECK(e.key == "(top level)");
  CHECK(e.problem.find("invalid JSON") != std::string::npos);
  CHECK(e.problem.find("line 2") != std::string::npos);
  CHECK(e.problem.find("json.exception") == std::string::npos);
  CHECK(must_fail("").problem.find("invalid JSON") != std::string::npos);
}

TEST_CASE("load_config reads a file - names it when broken - and refuses a missing one") {
  temp_file good(R"({"chain": ["openai"], "prompts_dir": "p"})");
  auto ok = load_config(good.path, {{"OPENAI_API_KEY", "k"}, {"ANTHROPIC_API_KEY", "k"}});
  REQUIRE(ok.config);
  CHECK(ok.config->prompts_dir == "p");
  REQUIRE(ok.config->providers.size() == 1);
  CHECK(ok.config->providers[0].id == "openai");

  temp_file broken("{\"retry\": {\"backoff_base_ms\": 200,,}}");
  auto bad = load_config(broken.path, {});
  REQUIRE(bad.error);
  CHECK_FALSE(bad.config);
  CHECK(bad.error->key == broken.path);
  CHECK(bad.error->problem.find("line 1") != std::string::npos);

  temp_file wrong(R"({"retry": {"backoff_base_ms": -1}})");
  auto wrong_result = load_config(wrong.path, {});
  REQUIRE(wrong_result.error);
  CHECK(wrong_result.error->key == "retry.backoff_base_ms");

  auto missing = load_config("/nonexistent/switchboard.json", {});
  REQUIRE(missing.error);
  CHECK_FALSE(missing.config);
  CHECK(missing.error->key == "/nonexistent/switchboard.json");
  CHECK(missing.error->problem.find("No such file") != std::string::npos);

  auto directory = load_config("/tmp", {});
  REQUIRE(directory.error);
  CHECK(directory.error->problem.find("not a regular file") != std::string::npos);
}

TEST_CASE("an env problem is reported even when the file is fine") {
  auto e = must_fail(R"({"chain": ["openai"]})", {{"OPENAI_BASE_URL", "nope"}});
  CHECK(e.key == "OPENAI_BASE_URL");
}
