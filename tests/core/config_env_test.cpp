// SPEC section 2: the environment builds providers, keys and globals.

#include <catch2/catch.hpp>

#include "core/config.hpp"

using namespace sb;

namespace {

gateway_config must_parse(const environment& env, const std::string& json = "{}") {
  auto result = parse_config(json, env);
  INFO((result.error ? result.error->to_string() : std::string("ok")));
  REQUIRE(result.config);
  REQUIRE_FALSE(result.error);
  return *result.config;
}

config_error must_fail(const environment& env, const std::string& json = "{}") {
  auto result = parse_config(json, env);
  REQUIRE_FALSE(result.config);
  REQUIRE(result.error);
  return *result.error;
}

std::vector<std::string> key_ids(const provider_config& p) {
  std::vector<std::string> ids;
  for (const auto& k : p.keys) ids.push_back(k.id);
  return ids;
}

}  // namespace

TEST_CASE("with no file and no env the defaults of SPEC sections 1-3 hold") {
  auto cfg = must_parse({});
  CHECK(cfg.listen_host == "127.0.0.1");
  CHECK(cfg.listen_port == 8080);
  CHECK(cfg.chain == known_provider_ids());
  CHECK(known_provider_ids() == std::vector<std::string>{"openrouter", "anthropic", "openai",
                                                         "google", "deepseek", "huggingface"});
  CHECK(cfg.providers.empty());  // no keys: nothing in the cascade
  CHECK(cfg.open_mode());
  CHECK(cfg.aliases.empty());
  CHECK(cfg.retry.server_error_retries == 3);
  CHECK(cfg.retry.backoff_base.count() == 200);
  CHECK(cfg.retry.backoff_max.count() == 5000);
  CHECK(cfg.retry.max_wait_for_key.count() == 2000);
  CHECK(cfg.retry.quota_skip.count() == 300);
  CHECK(cfg.timeouts.connect.count() == 3000);
  CHECK(cfg.timeouts.first_byte.count() == 30000);
  CHECK(cfg.timeouts.total.count() == 120000);
  CHECK(cfg.limits.max_body_bytes == 8u * 1024 * 1024);
  CHECK(cfg.limits.max_header_bytes == 16u * 1024);
  CHECK(cfg.limits.drain.count() == 10000);
  CHECK(cfg.quota.default_reservation_tokens == 4096);
  CHECK(cfg.streams.resume_grace.count() == 0);
  CHECK(cfg.streams.persist_every.count() == 200);
  CHECK(cfg.prompts_dir == "prompts");
  CHECK(cfg.tools.is_array());
  CHECK(cfg.tools.empty());
  CHECK_FALSE(cfg.default_monthly_token_cap);
  CHECK(cfg.redis_url.empty());
  CHECK(cfg.database_url.empty());
  CHECK(cfg.admin_token.empty());
  CHECK(load_config("", {}).config);  // no file: the same defaults
}

TEST_CASE("each provider gets its SPEC base URL - wire format and a default model") {
  struct row {
    const char* id;
    const char* key_var;
    const char* base_url;
    wire_format format;
    const char* default_model;
  };
  const row rows[] = {
      {"openrouter", "OPENROUTER_API_KEY", "https://openrouter.ai/api/v1", wire_format::openai_chat,
       "openai/gpt-4o-mini"},
      {"anthropic", "ANTHROPIC_API_KEY", "https://api.anthropic.com",
       wire_format::anthropic_messages, "claude-3-5-haiku-latest"},
      {"openai", "OPENAI_API_KEY", "https://api.openai.com/v1", wire_format::openai_chat,
       "gpt-4o-mini"},
      {"google", "GOOGLE_API_KEY", "https://generativelanguage.googleapis.com", wire_format::gemini,
       "gemini-2.0-flash"},
      {"deepseek", "DEEPSEEK_API_KEY", "https://api.deepseek.com", wire_format::openai_chat,
       "deepseek-chat"},
      {"huggingface", "HUGGINGFACE_API_KEY", "https://router.huggingface.co/v1",
       wire_format::openai_chat, "meta-llama/Llama-3.1-8B-Instruct"},
  };
  for (const auto& r : rows) {
    INFO(r.id);
    auto cfg = must_parse({{r.key_var, "sk-secret"}});
    REQUIRE(cfg.providers.size() == 1);
    const auto* p = cfg.find_provider(r.id);
    REQUIRE(p);
    CHECK(p->base_url == r.base_url);
    CHECK(p->format == r.format);
    CHECK(p->models == std::vector<std::string>{r.default_model});
    REQUIRE(p->keys.size() == 1);
    CHECK(p->keys[0].id == std::string(r.id) + "#1");
    CHECK(p->keys[0].secret == "sk-secret");
  }
}

TEST_CASE("providers with keys appear in chain order - the others not at all") {
  auto cfg = must_parse({{"OPENAI_API_KEY", "a"}, {"OPENROUTER_API_KEY", "b"}, {"DEEPSEEK_API_KEY", "c"}});
  REQUIRE(cfg.providers.size() == 3);
  CHECK(cfg.providers[0].id == "openrouter");
  CHECK(cfg.providers[1].id == "openai");
  CHECK(cfg.providers[2].id == "deepseek");
  CHECK(cfg.find_provider("anthropic") == nullptr);

  auto reordered = must_parse({{"OPENAI_API_KEY", "a"}, {"OPENROUTER_API_KEY", "b"}, {"DEEPSEEK_API_KEY", "c"}},
                              R"({"chain": ["deepseek", "openai"]})");
  REQUIRE(reordered.providers.size() == 2);  // openrouter has a key but is not in the chain
  CHECK(reordered.providers[0].id == "deepseek");
  CHECK(reordered.providers[1].id == "openai");
}

TEST_CASE("key slots: up to five keys - the id number is the slot") {
  auto cfg = must_parse({{"OPENAI_API_KEY", "k1"},
                         {"OPENAI_API_KEY_2", "k2"},
                         {"OPENAI_API_KEY_3", "k3"},
                         {"OPENAI_API_KEY_4", "k4"},
                         {"OPENAI_API_KEY_5", "k5"},
                         {"OPENAI_API_KEY_6", "k6"}});
  const auto* p = cfg.find_provider("openai");
  REQUIRE(p);
  CHECK(key_ids(*p) == std::vector<std::string>{"openai#1", "openai#2", "openai#3", "openai#4", "openai#5"});
  CHECK(p->keys[4].secret == "k5");

  auto gap = must_parse({{"ANTHROPIC_API_KEY_2", "only-two"}, {"ANTHROPIC_API_KEY_4", "four"}});
  REQUIRE(gap.find_provider("anthropic"));
  CHECK(key_ids(*gap.find_provider("anthropic")) == std::vector<std::string>{"anthropic#2", "anthropic#4"});
}

TEST_CASE("empty or blank variables count as unset - values are trimmed") {
  auto cfg = must_parse({{"OPENAI_API_KEY", ""}, {"GOOGLE_API_KEY", "  "}, {"DEEPSEEK_API_KEY", " dk\n"},
                         {"OPENAI_BASE_URL", ""}, {"LLM_MONTHLY_TOKEN_CAP_PER_WORKSPACE", ""}});
  REQUIRE(cfg.providers.size() == 1);
  CHECK(cfg.providers[0].id == "deepseek");
  CHECK(cfg.providers[0].keys[0].secret == "dk");
  CHECK_FALSE(cfg.default_monthly_token_cap);
}

TEST_CASE("GEMINI_API_KEY and HF_TOKEN stand in for the canonical names - which win") {
  auto aliased = must_parse({{"GEMINI_API_KEY", "g"}, {"HF_TOKEN", "h"}});
  REQUIRE(aliased.find_provider("google"));
  CHECK(aliased.find_provider("google")->keys[0].secret == "g");
  CHECK(aliased.find_provider("google")->keys[0].id == "google#1");
  REQUIRE(aliased.find_provider("huggingface"));
  CHECK(aliased.find_provider("huggingface")->keys[0].secret == "h");

  auto both = must_parse({{"GEMINI_API_KEY", "alias"}, {"GOOGLE_API_KEY", "canonical"},
                          {"HF_TOKEN", "alias"}, {"HUGGINGFACE_API_KEY", "canonical"}});
  REQUIRE(both.find_provider("google")->keys.size() == 1);
  CHECK(both.find_provider("google")->keys[0].secret == "canonical");
  REQUIRE(both.find_provider("huggingface")->keys.size() == 1);
  CHECK(both.find_provider("huggingface")->keys[0].secret == "canonical");

  auto slot = must_parse({{"GOOGLE_API_KEY", "one"}, {"GEMINI_API_KEY_2", "two"}});
  CHECK(key_ids(*slot.find_provider("google")) == std::vector<std::string>{"google#1", "google#2"});
}

TEST_CASE("LLM_MODEL_P is a trimmed comma-separated cascade") {
  auto cfg = must_parse({{"OPENAI_API_KEY", "k"},
                         {"LLM_MODEL_OPENAI", " gpt-4o , ,gpt-4o-mini,, gpt-4o "},
                         {"OPENROUTER_API_KEY", "k"},
                         {"LLM_MODEL_OPENROUTER", "anthropic/claude-3.5-sonnet"}});
  CHECK(cfg.find_provider("openai")->models == std::vector<std::string>{"gpt-4o", "gpt-4o-mini"});
  CHECK(cfg.find_provider("openrouter")->models ==
        std::vector<std::string>{"anthropic/claude-3.5-sonnet"});

  auto blank = must_parse({{"OPENAI_API_KEY", "k"}, {"LLM_MODEL_OPENAI", " , "}});
  CHECK(blank.find_provider("openai")->models == std::vector<std::string>{"gpt-4o-mini"});

  auto bad = must_fail({{"OPENAI_API_KEY", "k"}, {"LLM_MODEL_OPENAI", "gpt 4o"}});
  CHECK(bad.key == "LLM_MODEL_OPENAI");
}

TEST_CASE("P_BASE_URL overrides the base URL - loses its trailing slash - must be http(s)") {
  auto cfg = must_parse({{"OPENAI_API_KEY", "k"}, {"OPENAI_BASE_URL", "http://127.0.0.1:9000/v1/"},
                         {"ANTHROPIC_API_KEY", "k"}, {"ANTHROPIC_BASE_URL", "https://proxy.example"}});
  CHECK(cfg.find_provider("openai")->base_url == "http://127.0.0.1:9000/v1");
  CHECK(cfg.find_provider("anthropic")->base_url == "https://proxy.example");

  for (const char* bad : {"ftp://x", "127.0.0.1:9000", "https://", "https:///path",
                          "http://host/v1?key=1", "http://ho st"}) {
    INFO(bad);
    auto e = must_fail({{"GOOGLE_BASE_URL", bad}});
    CHECK(e.key == "GOOGLE_BASE_URL");
  }
  // The URL is not echoed: it may carry credentials.
  auto e = must_fail({{"DEEPSEEK_BASE_URL", "ftp://user:hunter2@host"}});
  CHECK(e.to_string().find("hunter2") == std::string::npos);
}

TEST_CASE("OPENAI_ORG_ID becomes the OpenAI-Organization header of openai only") {
  auto cfg = must_parse({{"OPENAI_API_KEY", "k"}, {"OPENROUTER_API_KEY", "k"}, {"OPENAI_ORG_ID", "org-123"}});
  CHECK(cfg.find_provider("openai")->extra_headers.at("OpenAI-Organization") == "org-123");
  CHECK(cfg.find_provider("openrouter")->extra_headers.empty());
  CHECK(must_parse({{"OPENAI_API_KEY", "k"}}).find_provider("openai")->extra_headers.empty());
}

TEST_CASE("global variables: cap - Redis - database - listen address - admin token") {
  auto cfg = must_parse({{"LLM_MONTHLY_TOKEN_CAP_PER_WORKSPACE", "1000000"},
                         {"REDIS_URL", "redis://10.0.0.5:6379/2"},
                         {"DATABASE_URL", "postgresql://u@db/switchboard"},
                         {"GATEWAY_LISTEN", "0.0.0.0:9090"},
                         {"GATEWAY_ADMIN_TOKEN", "adm-token"}});
  CHECK(cfg.default_monthly_token_cap == std::optional<std::int64_t>(1000000));
  CHECK(cfg.redis_url == "redis://10.0.0.5:6379/2");
  CHECK(cfg.database_url == "postgresql://u@db/switchboard");
  CHECK(cfg.listen_host == "0.0.0.0");
  CHECK(cfg.listen_port == 9090);
  CHECK(cfg.admin_token == "adm-token");

  CHECK(must_parse({{"DATABASE_URL", "./data/ledger.db"}}).database_url == "./data/ledger.db");
  CHECK(must_parse({{"DATABASE_URL", "sqlite:///var/lib/sb.db"}}).database_url == "sqlite:///var/lib/sb.db");
  CHECK(must_parse({{"GATEWAY_LISTEN", "[::1]:8081"}}).listen_host == "::1");
  CHECK(must_parse({{"GATEWAY_IO_THREADS", "3"}}).io_threads == std::optional<std::size_t>(3));
  CHECK_FALSE(must_parse({}).io_threads.has_value());  // one per core
}

TEST_CASE("bad global variables are named") {
  for (const char* cap : {"0", "-5", "ten", "1.5", "99999999999999999999"}) {
    INFO(cap);
    CHECK(must_fail({{"LLM_MONTHLY_TOKEN_CAP_PER_WORKSPACE", cap}}).key == "LLM_MONTHLY_TOKEN_CAP_PER_WORKSPACE");
  }
  CHECK(must_fail({{"REDIS_URL", "http://redis:6379"}}).key == "REDIS_URL");
  CHECK(must_fail({{"DATABASE_URL", "mysql://db"}}).key == "DATABASE_URL");
  CHECK(must_fail({{"GATEWAY_LISTEN", "8080"}}).key == "GATEWAY_LISTEN");
  CHECK(must_fail({{"GATEWAY_LISTEN", "localhost:70000"}}).key == "GATEWAY_LISTEN");
  for (const char* n : {"0", "-1", "two", "257", "1.5"}) {
    INFO(n);
    CHECK(must_fail({{"GATEWAY_IO_THREADS", n}}).key == "GATEWAY_IO_THREADS");
  }
}

TEST_CASE("a malformed key is named without printing its value") {
  auto e = must_fail({{"OPENAI_API_KEY_3", "sk-abc def-SECRETVALUE"}});
  CHECK(e.key == "OPENAI_API_KEY_3");
  CHECK(e.to_string().find("SECRETVALUE") == std::string::npos);
  CHECK(must_fail({{"HF_TOKEN", "a\nb"}}).key == "HF_TOKEN");
}

TEST_CASE("process_environment reads the variables the gateway cares about") {
  ::setenv("OPENAI_API_KEY_2", "from-process", 1);
  ::setenv("LLM_MODEL_DEEPSEEK", "deepseek-reasoner", 1);
  ::setenv("SWITCHBOARD_UNRELATED_VAR", "x", 1);
  auto env = process_environment();
  ::unsetenv("OPENAI_API_KEY_2");
  ::unsetenv("LLM_MODEL_DEEPSEEK");
  ::unsetenv("SWITCHBOARD_UNRELATED_VAR");
  CHECK(env.at("OPENAI_API_KEY_2") == "from-process");
  CHECK(env.at("LLM_MODEL_DEEPSEEK") == "deepseek-reasoner");
  CHECK(env.count("SWITCHBOARD_UNRELATED_VAR") == 0);
}
