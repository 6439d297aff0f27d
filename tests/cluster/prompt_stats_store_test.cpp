// Prompt stats and feedback in the ledger (SPEC 8), on every backend: the
// one SQL of cluster/prompt_stats_sql.hpp must mean the same on both.

#include <catch2/catch.hpp>

#include "cluster/billing_period.hpp"
#include "cluster/open_ledger_store.hpp"
#include "cluster/prompt_stats.hpp"
#include "tests/cluster/ledger_backends.hpp"

using namespace sb::cluster;
using sb::test::postgres_backend;
using sb::test::sqlite_backend;

namespace {

const period_bounds may = *parse_period("2025-05");

usage_row row(const std::string& request, int attempt, int version, usage_status status,
              std::int64_t latency, const std::string& workspace = "acme",
              const std::string& prompt = "helper") {
  usage_row r;
  r.timestamp_ms = may.start_ms + 1000 + attempt;
  r.request_id = request;
  r.user_id = "u";
  r.workspace_id = workspace;
  r.provider = "openai";
  r.model = "gpt-4o-mini";
  r.prompt_tokens = status == usage_status::ok ? 10 : 0;
  r.completion_tokens = status == usage_status::ok ? 5 : 0;
  r.latency_ms = latency;
  r.cost_estimate_usd = status == usage_status::ok ? 0.5 : 0;
  r.status = status;
  r.prompt_id = prompt;
  r.prompt_version = version;
  r.attempt = attempt;
  return r;
}

template <class Backend>
std::shared_ptr<ledger_store> open_or_skip(const Backend& b) {
  if (!b.available()) {
    WARN("SB_TEST_DATABASE_URL is not set: the " << Backend::name << " half is SKIPPED");
    return nullptr;
  }
  auto s = open_ledger_store(b.url());
  INFO(Backend::name << ": " << (s ? "" : s.error().to_string()));
  REQUIRE(s);
  return *s;
}

}  // namespace

TEST_CASE("p95 is the nearest rank", "[prompt_stats]") {
  CHECK(nearest_rank_percentile({}, 95) == 0);
  CHECK(nearest_rank_percentile({7}, 95) == 7);
  std::vector<std::int64_t> hundred;
  for (int i = 100; i >= 1; --i) hundred.push_back(i);
  CHECK(nearest_rank_percentile(hundred, 95) == 95);
  CHECK(nearest_rank_percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 95) == 10);
}

TEMPLATE_TEST_CASE("ledger: prompt stats per version and feedback", "[ledger][prompt_stats]",
                   sqlite_backend, postgres_backend) {
  TestType backend;
  auto store = open_or_skip(backend);
  if (!store) return;
  std::vector<usage_row> rows = {
      row("r1", 1, 1, usage_status::ok, 100),
      row("r2", 1, 1, usage_status::error, 40), row("r2", 2, 1, usage_status::ok, 60),  // retried: ok
      row("r3", 1, 2, usage_status::error, 30),                                          // failed
      row("r4", 1, 2, usage_status::error, 10), row("r4", 2, 2, usage_status::cancelled, 20),
      row("r5", 1, 2, usage_status::ok, 300),
      row("other-ws", 1, 1, usage_status::ok, 1, "globex"),
      row("other-prompt", 1, 1, usage_status::ok, 1, "acme", "another"),
  };
  REQUIRE_FALSE(store->append(rows));

  SECTION("feedback only for the workspace's own requests, the last score wins") {
    auto ok = store->record_feedback({"acme", "r1", 1.0, 1});
    REQUIRE(ok);
    CHECK(*ok);
    REQUIRE(*store->record_feedback({"acme", "r1", -0.5, 2}));
    REQUIRE(*store->record_feedback({"acme", "r2", 0.5, 3}));
    auto foreign = store->record_feedback({"acme", "other-ws", 1.0, 4});
    REQUIRE(foreign);
    CHECK_FALSE(*foreign);
    auto missing = store->record_feedback({"acme", "nope", 1.0, 5});
    REQUIRE(missing);
    CHECK_FALSE(*missing);

    auto lines = store->prompt_requests("acme", "helper", "2025-05");
    REQUIRE(lines);
    REQUIRE(lines->size() == 5);
    auto stats = summarize_prompt_stats(*lines);
    REQUIRE(stats.size() == 2);
    auto& v1 = stats[0];
    CHECK(v1.version == 1);
    CHECK(v1.requests == 2);
    CHECK(v1.upstream_calls == 3);
    CHECK(v1.errors == 0);
    CHECK(v1.mean_latency_ms == Approx(100));  // r1 100, r2 40 + 60
    CHECK(v1.p95_latency_ms == 100);
    CHECK(v1.total_tokens == 30);
    CHECK(v1.cost_estimate_usd == Approx(1.0));
    CHECK(v1.feedback_count == 2);
    REQUIRE(v1.mean_feedback);
    CHECK(*v1.mean_feedback == Approx(0.0));  // (-0.5 + 0.5) / 2
    auto& v2 = stats[1];
    CHECK(v2.version == 2);
    CHECK(v2.requests == 3);
    CHECK(v2.errors == 2);
    CHECK(v2.cancelled == 1);
    CHECK(v2.mean_latency_ms == Approx(120));  // 30, 30, 300
    CHECK(v2.p95_latency_ms == 300);
    CHECK_FALSE(v2.mean_feedback);
  }
  SECTION("scoped to workspace, prompt and month") {
    CHECK(store->prompt_requests("globex", "helper", "2025-05")->size() == 1);
    CHECK(store->prompt_requests("acme", "helper", "2025-06")->empty());
    CHECK(store->prompt_requests("acme", "nobody", "2025-05")->empty());
    auto bad = store->prompt_requests("acme", "helper", "2025-13");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == store_errc::bad_input);
  }
}
