// SPEC section 4's model selection rules.

#include <catch2/catch.hpp>

#include "core/target.hpp"

using namespace sb;

namespace {

// openrouter [anthropic/claude-3.5-sonnet, openai/gpt-4o-mini],
// openai [gpt-4o, gpt-4o-mini], deepseek [deepseek-chat]; anthropic and google
// have no key.
gateway_config sample_config() {
  auto result = parse_config(
      R"({"aliases": {"fast": ["google/gemini-2.0-flash", "openai/gpt-4o-mini", "deepseek/deepseek-chat"],
                      "gemini-only": ["google/gemini-2.0-flash"],
                      "cheap": ["deepseek/deepseek-reasoner"]}})",
      {{"OPENROUTER_API_KEY", "k"},
       {"LLM_MODEL_OPENROUTER", "anthropic/claude-3.5-sonnet,openai/gpt-4o-mini"},
       {"OPENAI_API_KEY", "k"},
       {"LLM_MODEL_OPENAI", "gpt-4o,gpt-4o-mini"},
       {"DEEPSEEK_API_KEY", "k"}});
  REQUIRE(result.config);
  return *result.config;
}

std::vector<std::string> names(const std::variant<std::vector<target>, api_error>& selected) {
  if (auto* error = std::get_if<api_error>(&selected)) FAIL("unexpected error: " << error->message);
  std::vector<std::string> out;
  for (const auto& t : std::get<std::vector<target>>(selected)) out.push_back(t.name());
  return out;
}

api_error error_of(const std::variant<std::vector<target>, api_error>& selected) {
  REQUIRE(std::holds_alternative<api_error>(selected));
  return std::get<api_error>(selected);
}

using list = std::vector<std::string>;

const list whole_cascade = {"openrouter/anthropic/claude-3.5-sonnet", "openrouter/openai/gpt-4o-mini",
                            "openai/gpt-4o", "openai/gpt-4o-mini", "deepseek/deepseek-chat"};

}  // namespace

TEST_CASE("auto is the whole cascade: chain order - then each provider's models") {
  auto cfg = sample_config();
  CHECK(names(select_targets(cfg, "auto", true)) == whole_cascade);
  CHECK(names(select_targets(cfg, "auto", false)) == whole_cascade);

  list cascade;
  for (const auto& t : full_cascade(cfg)) cascade.push_back(t.name());
  CHECK(cascade == whole_cascade);
  CHECK(full_cascade(cfg)[0].provider == "openrouter");
  CHECK(full_cascade(cfg)[0].model == "anthropic/claude-3.5-sonnet");
}

TEST_CASE("auto with no provider configured is empty (the caller answers 503)") {
  auto result = parse_config("{}", {});
  REQUIRE(result.config);
  CHECK(names(select_targets(*result.config, "auto", true)).empty());
  CHECK(error_of(select_targets(*result.config, "gpt-4o", true)).code == "model_not_found");
}

TEST_CASE("provider/model: that target first - then the rest without it") {
  auto cfg = sample_config();
  CHECK(names(select_targets(cfg, "openai/gpt-4o-mini", true)) ==
        list{"openai/gpt-4o-mini", "openrouter/anthropic/claude-3.5-sonnet",
             "openrouter/openai/gpt-4o-mini", "openai/gpt-4o", "deepseek/deepseek-chat"});
  // Any model of a configured provider, even one outside its cascade.
  CHECK(names(select_targets(cfg, "deepseek/deepseek-reasoner", true)) ==
        list{"deepseek/deepseek-reasoner", "openrouter/anthropic/claude-3.5-sonnet",
             "openrouter/openai/gpt-4o-mini", "openai/gpt-4o", "openai/gpt-4o-mini",
             "deepseek/deepseek-chat"});
}

TEST_CASE("X-Gateway-Fallback: none keeps only the requested target") {
  auto cfg = sample_config();
  CHECK(names(select_targets(cfg, "openai/gpt-4o-mini", false)) == list{"openai/gpt-4o-mini"});
  CHECK(names(select_targets(cfg, "gpt-4o", false)) == list{"openai/gpt-4o"});
}

TEST_CASE("OpenRouter's nested names: the provider is the first segment only") {
  auto cfg = sample_config();
  auto selected = select_targets(cfg, "openrouter/anthropic/claude-3.5-sonnet", false);
  REQUIRE(std::holds_alternative<std::vector<target>>(selected));
  const auto& targets = std::get<std::vector<target>>(selected);
  REQUIRE(targets.size() == 1);
  CHECK(targets[0].provider == "openrouter");
  CHECK(targets[0].model == "anthropic/claude-3.5-sonnet");
  CHECK(names(select_targets(cfg, "openrouter/meta-llama/llama-3-70b", false)) ==
        list{"openrouter/meta-llama/llama-3-70b"});
}

TEST_CASE("a name whose first segment is no configured provider is tried as a bare name") {
  auto cfg = sample_config();
  // anthropic has no key, but OpenRouter's cascade lists this model.
  CHECK(names(select_targets(cfg, "anthropic/claude-3.5-sonnet", true)) == whole_cascade);
  // openai is configured: "openai/gpt-4o-mini" is openai's own model first, and
  // OpenRouter's target of the same name follows in cascade order.
  CHECK(names(select_targets(cfg, "openai/gpt-4o-mini", true))[0] == "openai/gpt-4o-mini");
  CHECK(names(select_targets(cfg, "anthropic/claude-3.5-sonnet", false)) ==
        list{"openrouter/anthropic/claude-3.5-sonnet"});
}

TEST_CASE("an alias is its list - in order - without unconfigured providers") {
  auto cfg = sample_config();
  CHECK(names(select_targets(cfg, "fast", true)) == list{"openai/gpt-4o-mini", "deepseek/deepseek-chat"});
  CHECK(names(select_targets(cfg, "fast", false)) == list{"openai/gpt-4o-mini", "deepseek/deepseek-chat"});
  CHECK(names(select_targets(cfg, "cheap", true)) == list{"deepseek/deepseek-reasoner"});

  auto e = error_of(select_targets(cfg, "gemini-only", true));
  CHECK(e.status == 400);
  CHECK(e.code == "model_not_found");
  CHECK(e.message.find("google") != std::string::npos);
}

TEST_CASE("a bare model name: its targets first - then the rest") {
  auto cfg = sample_config();
  CHECK(names(select_targets(cfg, "gpt-4o-mini", true)) ==
        list{"openai/gpt-4o-mini", "openrouter/anthropic/claude-3.5-sonnet",
             "openrouter/openai/gpt-4o-mini", "openai/gpt-4o", "deepseek/deepseek-chat"});
  CHECK(names(select_targets(cfg, "deepseek-chat", true))[0] == "deepseek/deepseek-chat");
}

TEST_CASE("an unknown model - or a provider without a key - is 400 model_not_found") {
  auto cfg = sample_config();
  for (const char* model : {"gpt-5-ultra", "", "Auto", "mistral/large", "openai/", "/gpt-4o"}) {
    INFO(model);
    auto e = error_of(select_targets(cfg, model, true));
    CHECK(e.status == 400);
    CHECK(e.code == "model_not_found");
    CHECK(e.param == std::optional<std::string>("model"));
  }
  auto e = error_of(select_targets(cfg, "google/gemini-2.0-flash", true));
  CHECK(e.code == "model_not_found");
  CHECK(e.message.find("GOOGLE_API_KEY") != std::string::npos);
}

TEST_CASE("a hand-built config: providers without keys are not in the cascade") {
  gateway_config cfg;
  cfg.providers.push_back({"openai", wire_format::openai_chat, "https://x", {}, {"gpt-4o"}, {}});
  cfg.providers.push_back({"deepseek", wire_format::openai_chat, "https://y", {{"deepseek#1", "s"}},
                           {"deepseek-chat"}, {}});
  CHECK(names(select_targets(cfg, "auto", true)) == list{"deepseek/deepseek-chat"});
  CHECK(error_of(select_targets(cfg, "openai/gpt-4o", true)).code == "model_not_found");
}
