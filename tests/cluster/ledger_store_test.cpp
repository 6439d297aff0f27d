// One suite, every ledger backend: SQLite always, PostgreSQL when
// SB_TEST_DATABASE_URL is set (make test sets it; otherwise a WARN says the
// PostgreSQL half was skipped).

#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>
#include <vector>

#include "cluster/billing_period.hpp"
#include "cluster/open_ledger_store.hpp"
#include "tests/cluster/ledger_backends.hpp"

using namespace sb::cluster;
using sb::test::postgres_backend;
using sb::test::sqlite_backend;

namespace {

const period_bounds march = *parse_period("2025-03");
const period_bounds april = *parse_period("2025-04");

usage_row make_row(const std::string& request, int attempt, std::int64_t ts,
                   const std::string& workspace = "acme", const std::string& provider = "openai",
                   const std::string& model = "gpt-4o-mini") {
  usage_row r;
  r.timestamp_ms = ts;
  r.request_id = request;
  r.user_id = "user-1";
  r.workspace_id = workspace;
  r.provider = provider;
  r.model = model;
  r.prompt_tokens = 100;
  r.completion_tokens = 20;
  r.latency_ms = 345;
  r.cost_estimate_usd = 0.000027;
  r.status = usage_status::ok;
  r.attempt = attempt;
  return r;
}

template <class Backend>
std::shared_ptr<ledger_store> open_or_skip(const Backend& b) {
  if (!b.available()) {
    WARN("SB_TEST_DATABASE_URL is not set: the " << Backend::name
                                                 << " half of the ledger suite is SKIPPED");
    return nullptr;
  }
  auto s = open_ledger_store(b.url());
  INFO(Backend::name << ": " << (s ? "" : s.error().to_string()));
  REQUIRE(s);
  CHECK(std::string((*s)->backend()) == Backend::name);
  return *s;
}

}  // namespace

TEMPLATE_TEST_CASE("ledger: migrating twice - or from a second connection - changes nothing",
                   "[ledger]", sqlite_backend, postgres_backend) {
  TestType backend;
  auto store = open_or_skip(backend);
  if (!store) return;
  REQUIRE_FALSE(store->append({make_row("req_a", 1, march.start_ms + 5)}));
  REQUIRE_FALSE(store->migrate());
  REQUIRE_FALSE(store->migrate());
  auto again = open_ledger_store(backend.url());  // migrates on open
  REQUIRE(again);
  auto rows = (*again)->events("acme", "2025-03");
  REQUIRE(rows);
  CHECK(rows->size() == 1);
}

TEMPLATE_TEST_CASE("ledger: nodes starting together migrate a fresh database once", "[ledger]",
                   sqlite_backend, postgres_backend) {
  TestType backend;
  if (!backend.available()) {
    WARN("SB_TEST_DATABASE_URL is not set: " << TestType::name << " SKIPPED");
    return;
  }
  std::vector<std::thread> nodes;
  std::vector<std::string> errors(4);
  for (int i = 0; i < 4; ++i)
    nodes.emplace_back([&, i] {
      auto s = open_ledger_store(backend.url());
      if (!s) errors[i] = s.error().to_string();
    });
  for (auto& t : nodes) t.join();
  for (const auto& e : errors) CHECK(e.empty());
}

TEMPLATE_TEST_CASE("ledger: a row reads back with every column", "[ledger]", sqlite_backend,
                   postgres_backend) {
  TestType backend;
  auto store = open_or_skip(backend);
  if (!store) return;
  usage_row r = make_row("req_full", 2, march.start_ms + 123456);
  r.user_id = "ünïcode user, with 'quotes'";
  r.status = usage_status::cancelled;
  r.prompt_id = "support_reply";
  r.prompt_version = 3;
  r.estimated = true;
  r.cost_estimate_usd = 0.1 + 0.2;  // not exactly representable: must round-trip anyway
  r.latency_ms = 98765;
  REQUIRE_FALSE(store->append({r}));
  auto rows = store->events("acme", "2025-03");
  REQUIRE(rows);
  REQUIRE(rows->size() == 1);
  CHECK(rows->front() == r);
}

TEMPLATE_TEST_CASE("ledger: writing a row twice stores it once", "[ledger]", sqlite_backend,
                   postgres_backend) {
  TestType backend;
  auto store = open_or_skip(backend);
  if (!store) return;
  std::vector<usage_row> batch = {make_row("req_1", 1, march.start_ms + 1),
                                  make_row("req_1", 2, march.start_ms + 2)};
  REQUIRE_FALSE(store->append(batch));
  batch.push_back(make_row("req_2", 1, march.start_ms + 3));
  REQUIRE_FALSE(store->append(batch));  // a retried flush after a lost COMMIT reply
  auto rows = store->events("acme", "2025-03");
  REQUIRE(rows);
  CHECK(rows->size() == 3);
}

TEMPLATE_TEST_CASE("ledger: aggregate sums one workspace's month", "[ledger]", sqlite_backend,
                   postgres_backend) {
  TestType backend;
  auto store = open_or_skip(backend);
  if (!store) return;
  std::vector<usage_row> rows;
  // req_1: failed on openai, then succeeded on anthropic: one request, two calls.
  auto failed = make_row("req_1", 1, march.start_ms);  // the period's first millisecond
  failed.status = usage_status::error;
  failed.prompt_tokens = 0;
  failed.completion_tokens = 0;
  failed.cost_estimate_usd = 0;
  rows.push_back(failed);
  auto second = make_row("req_1", 2, march.start_ms + 10, "acme", "anthropic", "claude-3-5-haiku-latest");
  second.prompt_tokens = 1000;
  second.completion_tokens = 500;
  second.cost_estimate_usd = 0.0028;
  rows.push_back(second);
  rows.push_back(make_row("req_2", 1, march.end_ms - 1));  // the period's last millisecond
  rows.push_back(make_row("req_3", 1, april.start_ms));    // next month
  rows.push_back(make_row("req_4", 1, march.start_ms + 50, "other"));  // other workspace
  REQUIRE_FALSE(store->append(rows));

  auto sum = store->aggregate("acme", "2025-03");
  REQUIRE(sum);
  CHECK(sum->workspace == "acme");
  CHECK(sum->period == "2025-03");
  CHECK(sum->requests == 2);
  CHECK(sum->upstream_calls == 3);
  CHECK(sum->prompt_tokens == 1100);
  CHECK(sum->completion_tokens == 520);
  CHECK(sum->total_tokens == 1620);
  CHECK(sum->cost_estimate_usd == Approx(0.0028 + 0.000027));
  REQUIRE(sum->by_model.size() == 2);
  CHECK(sum->by_model[0].provider == "anthropic");
  CHECK(sum->by_model[0].requests == 1);
  CHECK(sum->by_model[0].upstream_calls == 1);
  CHECK(sum->by_model[0].total_tokens == 1500);
  CHECK(sum->by_model[1].provider == "openai");
  CHECK(sum->by_model[1].model == "gpt-4o-mini");
  CHECK(sum->by_model[1].requests == 2);
  CHECK(sum->by_model[1].upstream_calls == 2);
  CHECK(sum->by_model[1].prompt_tokens == 100);

  auto next = store->aggregate("acme", "2025-04");
  REQUIRE(next);
  CHECK(next->requests == 1);
  auto empty = store->aggregate("nobody", "2025-03");
  REQUIRE(empty);
  CHECK(empty->requests == 0);
  CHECK(empty->total_tokens == 0);
  CHECK(empty->by_model.empty());
}

TEMPLATE_TEST_CASE("ledger: events are the month's rows in time order", "[ledger]",
                   sqlite_backend, postgres_backend) {
  TestType backend;
  auto store = open_or_skip(backend);
  if (!store) return;
  REQUIRE_FALSE(store->append({make_row("req_b", 1, march.start_ms + 20),
                               make_row("req_a", 1, march.start_ms + 10),
                               make_row("req_c", 1, april.start_ms),
                               make_row("req_d", 1, march.start_ms + 30, "other")}));
  auto rows = store->events("acme", "2025-03");
  REQUIRE(rows);
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].request_id == "req_a");
  CHECK((*rows)[1].request_id == "req_b");
  auto bad = store->events("acme", "March");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == store_errc::bad_input);
  CHECK_FALSE(store->aggregate("acme", "2025-3"));
}

TEMPLATE_TEST_CASE("ledger: a large batch is one transaction", "[ledger]", sqlite_backend,
                   postgres_backend) {
  TestType backend;
  auto store = open_or_skip(backend);
  if (!store) return;
  std::vector<usage_row> batch;
  for (int i = 0; i < 1234; ++i)
    batch.push_back(make_row("req_" + std::to_string(i), 1, march.start_ms + i));
  REQUIRE_FALSE(store->append(batch));
  auto sum = store->aggregate("acme", "2025-03");
  REQUIRE(sum);
  CHECK(sum->upstream_calls == 1234);
  CHECK(sum->requests == 1234);
  CHECK(sum->prompt_tokens == 123400);
  CHECK_FALSE(store->ping());
  CHECK_FALSE(store->append({}));
}

TEMPLATE_TEST_CASE("ledger: batches of every size in turn each write every row once", "[ledger]",
                   sqlite_backend, postgres_backend) {
  TestType backend;
  auto store = open_or_skip(backend);
  if (!store) return;
  // Sizes 1…70 in turn: each shape of batch (and each prepared statement
  // behind it) is used again after other shapes.
  int written = 0;
  for (int size = 1; size <= 70; ++size) {
    std::vector<usage_row> batch;
    for (int i = 0; i < size; ++i, ++written)
      batch.push_back(make_row("req_" + std::to_string(written), 1, march.start_ms + written));
    REQUIRE_FALSE(store->append(batch));
  }
  auto rows = store->events("acme", "2025-03");
  REQUIRE(rows);
  REQUIRE(rows->size() == static_cast<std::size_t>(written));
  for (int i = 0; i < written; ++i) CHECK((*rows)[i].request_id == "req_" + std::to_string(i));
}
