#include <catch2/catch.hpp>

#include "cluster/price_table.hpp"
#include "core/provider_catalog.hpp"

using namespace sb::cluster;

TEST_CASE("every provider's default models have a built-in price", "[prices]") {
  price_table prices;
  for (const auto& spec : sb::provider_catalog())
    for (const auto& model : spec.default_models) {
      INFO(spec.id << "/" << model);
      CHECK(prices.find(spec.id, model) != nullptr);
    }
  for (const char* m : {"gpt-4o", "gpt-4o-mini"}) CHECK(prices.find("openai", m));
  CHECK(prices.find("anthropic", "claude-3-5-sonnet-latest"));
  CHECK(prices.find("anthropic", "claude-3-5-sonnet-20241022"));
}

TEST_CASE("cost is tokens times the per-million price - and micro-dollars round up", "[prices]") {
  price_table prices;
  auto c = prices.cost("openai", "gpt-4o", 1'000'000, 100'000);
  CHECK(c.known);
  CHECK(c.usd == Approx(2.5 + 1.0));
  CHECK(c.micros == 3'500'000);
  // 0.60 x 100 is 60.000000000000007 in binary: still 60 micro-dollars.
  CHECK(prices.cost("openai", "gpt-4o-mini", 0, 100).micros == 60);
  // 0.15 x 10 = 1.5 micro-dollars: rounded up, never under-counted.
  CHECK(prices.cost("openai", "gpt-4o-mini", 10, 0).micros == 2);
  CHECK(prices.cost("openai", "gpt-4o-mini", 0, 0).micros == 0);
}

TEST_CASE("config prices override and extend the built-in table", "[prices]") {
  price_table prices({{"openai/gpt-4o", {1.0, 2.0}}, {"acme/house-model", {5.0, 5.0}}});
  CHECK(prices.cost("openai", "gpt-4o", 1'000'000, 1'000'000).usd == Approx(3.0));
  CHECK(prices.cost("acme", "house-model", 1'000'000, 0).usd == Approx(5.0));
  CHECK(prices.cost("openai", "gpt-4o-mini", 1'000'000, 0).usd == Approx(0.15));  // untouched
}

TEST_CASE("an unknown model costs 0 and says so", "[prices]") {
  price_table prices;
  auto c = prices.cost("openai", "gpt-unknown", 1000, 1000);
  CHECK_FALSE(c.known);
  CHECK(c.usd == 0);
  CHECK(c.micros == 0);
  CHECK_FALSE(prices.find("nobody", "gpt-4o"));
}

TEST_CASE("a dated model name costs what its family costs", "[prices]") {
  price_table prices;
  const sb::price* p = prices.find("openai", "gpt-4o-mini-2024-07-18");
  REQUIRE(p);
  CHECK(p->input_per_mtok == Approx(0.15));  // gpt-4o-mini, not gpt-4o
  CHECK(prices.find("openai", "gpt-4o-2024-08-06")->input_per_mtok == Approx(2.5));
  CHECK_FALSE(prices.find("openai", "gpt-4ox"));  // a prefix must end at a '-'
}

TEST_CASE("prices: a lookup asked again - or by a copy - gives the same cost", "[prices]") {
  sb::cluster::price_table table({{"openai/my-model", {1.0, 2.0}}});
  for (int i = 0; i < 3; ++i) {
    auto c = table.cost("openai", "gpt-4o-mini-2024-07-18", 1'000'000, 0);
    CHECK(c.known);
    CHECK(c.micros == 150'000);
    CHECK_FALSE(table.cost("openai", "unpriced-model", 10, 10).known);
  }
  sb::cluster::price_table copy = table;
  CHECK(copy.cost("openai", "my-model", 0, 1'000'000).micros == 2'000'000);
  CHECK(copy.cost("openai", "gpt-4o-mini-2024-07-18", 1'000'000, 0).micros == 150'000);
  // Same model name under another provider is another price.
  CHECK(table.cost("deepseek", "my-model", 1, 1).known == false);
}
