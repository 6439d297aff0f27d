// Issue 5's acceptance tests for what must survive a failure, over real
// processes (ADR-0009):
// - SIGTERM in the middle of load (slow streams in flight): the node drains,
//   exits 0, and its ledger holds exactly one row per call the fake provider
//   received.
// - A Redis restart without persistence in the middle of load: capped
//   requests during the outage get 503 and make no upstream call; afterwards
//   the counter is rebuilt from the ledger, so nothing is admitted over the
//   cap; the ledger holds one row per call.

#include <future>
#include <mutex>

#include "cluster/billing_period.hpp"
#include "cluster/open_ledger_store.hpp"
#include "cluster/redis_quota_store.hpp"
#include "core/token_estimate.hpp"
#include "core/workspace_auth.hpp"
#include "tests/fakes/fake_provider.hpp"
#include "tests/integration/gateway_fixture.hpp"  // sse_data
#include "tests/integration/gateway_process.hpp"

using namespace sb::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr std::int64_t max_tokens = 20;

json request_for(const std::string& model, bool stream) {
  json body = {{"model", model}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", max_tokens}};
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
  }
  return body;
}

std::string forty_words() {
  std::string s;
  for (int i = 0; i < 40; ++i) s += (i ? " w" : "w") + std::to_string(i);
  return s;
}

bool ends_with_done(const http_response& r) {
  auto data = sse_data(r.body);
  return !data.empty() && data.back() == "[DONE]";
}

/// Two models on two fakes: "fast" (openai, answers at once) and "slow"
/// (deepseek, a chunk every `slow_delay`).
json two_speed_config(const std::string& ws, const std::string& token, std::int64_t cap) {
  return {{"workspaces",
           {{{"id", ws}, {"api_key_sha256", {sb::sha256_hex(token)}}, {"monthly_token_cap", cap}}}},
          {"aliases", {{"fast", {"openai/gpt-4o-mini"}}, {"slow", {"deepseek/deepseek-chat"}}}},
          {"retry", {{"server_error_retries", 0}}},
          {"timeouts", {{"connect_ms", 1000}, {"first_byte_ms", 5000}, {"total_ms", 10000}}}};
}

/// One node under load on `database_url` ("" = a SQLite file of its own),
/// SIGTERM while slow streams are in flight: every call the fakes received is
/// a row once the process has exited 0.
void sigterm_under_load(const std::string& database_url) {
  sb::fakes::fake_provider fast;
  sb::fakes::fake_options so;
  so.chunk_delay = 60ms;  // 8 chunks: ~0.5 s per streamed call
  sb::fakes::fake_provider slow(so);

  const std::string ws = "drain-" + unique_suffix();
  const std::string token = "token-" + ws;
  temp_dir dir;
  auto config_file = dir.write("switchboard.json", two_speed_config(ws, token, 100'000'000).dump());
  const auto db = database_url.empty() ? dir.file("ledger.db") : database_url;
  gateway_node node(config_file, node_env({{"openai", fast.base_url() + "/v1"}, {"deepseek", slow.base_url() + "/v1"}},
                                          {{"DATABASE_URL", db}}));

  std::vector<std::pair<std::string, std::string>> auth{{"Authorization", "Bearer " + token}};
  std::mutex mu;
  std::vector<http_response> answers;
  using clock = std::chrono::steady_clock;
  std::vector<clock::time_point> slow_finished;
  std::vector<std::thread> clients;
  constexpr int threads = 6;
  for (int t = 0; t < threads; ++t)
    clients.emplace_back([&, t] {
      const bool streaming_slowly = t % 2 == 1;
      // Until the node stops accepting: then connect fails and the client stops.
      for (int i = 0; i < 2000; ++i) {
        auto body = streaming_slowly ? request_for("slow", true) : request_for("fast", i % 2 == 0);
        auto r = try_request(node.port(), "POST", "/v1/chat/completions", body.dump(), auth);
        if (r.status == 0) return;
        std::lock_guard<std::mutex> lock(mu);
        if (streaming_slowly) slow_finished.push_back(clock::now());
        answers.push_back(std::move(r));
      }
    });

  // Load running, slow streams in flight (each slow client has one open): SIGTERM.
  REQUIRE(fast.wait_for_requests(30, 10s));
  REQUIRE(slow.wait_for_requests(threads / 2 + 1, 10s));
  const auto sigterm_at = clock::now();
  node.process().signal(SIGTERM);
  auto code = node.process().wait_exit(20s);
  for (auto& c : clients) c.join();
  REQUIRE(code == 0);
  CHECK(node.output().find("draining") != std::string::npos);

  const auto calls = fast.request_count() + slow.request_count();
  std::size_t ok = 0, streamed_ok = 0;
  for (auto& r : answers) {
    if (r.status != 200) {
      FAIL_CHECK("unexpected answer " << r.status << ": " << r.body);
      continue;
    }
    ++ok;
    if (r.header("content-type").find("text/event-stream") != std::string::npos) {
      ++streamed_ok;
      CHECK(ends_with_done(r));  // in flight at SIGTERM: finished, not cut
    }
  }
  CHECK(slow.request_count() >= static_cast<std::size_t>(threads / 2 + 1));
  // Slow streams were in flight at SIGTERM and the drain finished them.
  CHECK(std::count_if(slow_finished.begin(), slow_finished.end(),
                      [&](clock::time_point t) { return t > sigterm_at; }) > 0);

  // The ledger, read from the file the process left behind.
  auto store = sb::cluster::open_ledger_store(db);
  REQUIRE(store);
  auto rows = (*store)->events(ws, sb::cluster::current_period());
  REQUIRE(rows);
  INFO("calls " << calls << " (slow " << slow.request_count() << "), rows " << rows->size() << ", 200s " << ok
                << " (streamed " << streamed_ok << ")");
  CHECK(rows->size() == calls);
  CHECK(ok == calls);  // every call the fake saw was answered in full
  std::size_t not_ok = 0;
  for (auto& row : *rows)
    if (row.status != sb::cluster::usage_status::ok) ++not_ok;
  CHECK(not_ok == 0);
}

}  // namespace

TEST_CASE("SIGTERM in the middle of load loses no ledger row on SQLite", "[ledger][drain][process]") {
  sigterm_under_load("");
}

TEST_CASE("SIGTERM in the middle of load loses no ledger row on PostgreSQL", "[ledger][drain][process]") {
  const auto pg_url = env_or_empty("SB_TEST_DATABASE_URL");
  if (pg_url.empty()) {
    WARN("SB_TEST_DATABASE_URL is not set: the PostgreSQL drain test needs one (tests/services.sh)");
    return;
  }
  sigterm_under_load(pg_url);
}

TEST_CASE("a Redis restart in the middle of load keeps the cap and the ledger exact", "[cluster][cap][redis][process]") {
  if (find_program("redis-server").empty()) {
    WARN("redis-server is not installed: the Redis restart test needs one");
    return;
  }
  // With a shared PostgreSQL ledger two nodes share the Redis; without one a
  // single node (a counter rebuilt from one node's SQLite would not see the
  // other node's rows: cluster mode needs the shared ledger).
  const auto pg_url = env_or_empty("SB_TEST_DATABASE_URL");
  const int nodes = pg_url.empty() ? 1 : 2;

  const std::int64_t reservation = sb::estimate_prompt_tokens(request_for("fast", false)) + max_tokens;
  const int chunks = static_cast<int>(reservation - 1);  // the fake bills "hi" (1) + chunks: the reservation
  REQUIRE(chunks > 0);
  REQUIRE(chunks <= 40);
  const std::int64_t fits = 20;
  const std::int64_t cap = fits * reservation + reservation / 2;

  sb::fakes::fake_options fo;
  fo.text = forty_words();
  fo.chunks = chunks;
  sb::fakes::fake_provider fast(fo);
  fo.chunk_delay = 40ms;  // ~1 s per call: in flight across the outage
  sb::fakes::fake_provider slow(fo);

  local_redis redis(free_loopback_port());
  const std::string ws = "restart-" + unique_suffix();
  const std::string token = "token-" + ws;
  const std::string admin = "admin-" + ws;
  temp_dir dir;
  auto config_file = dir.write("switchboard.json", two_speed_config(ws, token, cap).dump());
  std::vector<std::unique_ptr<gateway_node>> gw;
  for (int n = 0; n < nodes; ++n)
    gw.push_back(std::make_unique<gateway_node>(
        config_file,
        node_env({{"openai", fast.base_url() + "/v1"}, {"deepseek", slow.base_url() + "/v1"}},
                 {{"REDIS_URL", redis.url()},
                  {"DATABASE_URL", pg_url.empty() ? dir.file("ledger.db") : pg_url},
                  {"GATEWAY_ADMIN_TOKEN", admin}})));
  auto node = [&](int i) { return gw[static_cast<std::size_t>(i % nodes)]->port(); };
  std::vector<std::pair<std::string, std::string>> auth{{"Authorization", "Bearer " + token}};
  auto chat = [&](int i, const json& body) {
    return try_request(node(i), "POST", "/v1/chat/completions", body.dump(), auth);
  };

  // Before: some calls done, four slow streams admitted and in flight.
  for (int i = 0; i < 4; ++i) REQUIRE(chat(i, request_for("fast", false)).status == 200);
  std::vector<std::future<http_response>> streams;
  for (int i = 0; i < 4; ++i)
    streams.push_back(std::async(std::launch::async, [&, i] { return chat(i, request_for("slow", true)); }));
  REQUIRE(slow.wait_for_requests(4, 10s));

  // Redis dies with its data.
  redis.kill();
  for (int i = 0; i < 6; ++i) {
    auto r = chat(i, request_for("fast", false));
    CHECK(r.status == 503);
    if (r.status == 503) CHECK(json::parse(r.body)["error"]["code"] == "quota_unavailable");
  }
  CHECK(fast.request_count() == 4);  // fail closed: no upstream call during the outage
  CHECK(try_request(node(0), "GET", "/readyz").status == 503);
  // Admitted before the outage: not cut short by it.
  for (auto& s : streams) {
    auto r = s.get();
    CHECK(r.status == 200);
    CHECK(ends_with_done(r));
  }
  // Their rows reach the ledger (flush interval 100 ms) before Redis returns:
  // the rebuilt counter will count them (ADR-0009's one accepted leak is a
  // row still buffered at rebuild time; this test leaves none).
  std::this_thread::sleep_for(400ms);

  // Redis is back, empty, on the same port. After the clients' 200 ms
  // reconnect pause every node reaches it again.
  redis.start();
  std::this_thread::sleep_for(400ms);
  constexpr int after = 50;
  std::mutex mu;
  std::vector<int> statuses;
  run_concurrently(after, [&](int i) {
    auto r = chat(i, request_for("fast", i % 4 == 0 ? true : false));
    std::lock_guard<std::mutex> lock(mu);
    statuses.push_back(r.status);
    if (r.status != 200 && r.status != 402) FAIL_CHECK("after the restart: " << r.status << " " << r.body);
  });
  const auto admitted_after = std::count(statuses.begin(), statuses.end(), 200);
  const auto refused_after = std::count(statuses.begin(), statuses.end(), 402);
  const std::int64_t admitted = 4 + 4 + admitted_after;
  const auto calls = static_cast<std::int64_t>(fast.request_count() + slow.request_count());

  // The ledger: one row per call, on whichever node wrote it.
  const auto period = sb::cluster::current_period();
  std::vector<std::pair<std::string, std::string>> admin_auth{{"Authorization", "Bearer " + admin}};
  json usage;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  do {
    for (int n = 0; n < nodes; ++n)  // each node flushes its buffer when read
      usage = json::parse(http_request(node(n), "GET", "/v1/usage?workspace=" + ws, {}, admin_auth).body);
    usage = json::parse(http_request(node(0), "GET", "/v1/usage?workspace=" + ws, {}, admin_auth).body);
    if (usage["upstream_calls"].get<std::int64_t>() >= calls) break;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);

  auto store = sb::cluster::redis_quota_store::from_url(redis.url());
  REQUIRE(store);
  auto counter = (*store)->usage(ws, period);
  REQUIRE(counter);
  const auto billed = usage["total_tokens"].get<std::int64_t>();
  INFO("reservation " << reservation << ", cap " << cap << ", admitted " << admitted << " (after the restart "
                      << admitted_after << ", refused " << refused_after << "), calls " << calls << ", rows "
                      << usage["upstream_calls"] << ", billed " << billed << ", counter " << counter->tokens);

  CHECK(calls == admitted);
  CHECK(usage["upstream_calls"].get<std::int64_t>() == calls);
  CHECK(billed == admitted * reservation);
  // Nothing over the cap afterwards.
  CHECK(billed <= cap);
  CHECK(admitted <= fits);
  CHECK(refused_after > 0);
  // The rebuilt counter never counts less than the ledger; it may count a
  // call whose settle was queued during the outage a second time (ADR-0009:
  // over-count, the safe side), at most the eight calls made before the loss.
  CHECK(counter->tokens >= billed);
  CHECK(counter->tokens <= billed + 8 * reservation);
  CHECK(admitted >= fits - 8);

  for (auto& g : gw) {
    g->process().signal(SIGTERM);
    CHECK(g->process().wait_exit(15s) == 0);
  }
}

// Calls still streaming when Redis loses its data and is rebuilt: their
// settles find a counter of another generation and add their actual usage,
// so the counter ends exactly at what the ledger billed. What this cannot
// give back is the time in between: their reservations were lost with the
// data, so until they settle the rebuilt counter does not hold their budget
// and other requests are admitted into it. The cap is then exceeded by at
// most the reservations in flight at the loss (here two). ADR-0009 lists
// only the buffered-rows leak; this one is the second, and Redis persistence
// (appendonly yes) removes both.
TEST_CASE("a call in flight across a Redis data loss is counted when it settles", "[cluster][cap][redis][process]") {
  if (find_program("redis-server").empty()) {
    WARN("redis-server is not installed: the Redis restart test needs one");
    return;
  }
  const auto pg_url = env_or_empty("SB_TEST_DATABASE_URL");
  const int nodes = pg_url.empty() ? 1 : 2;
  const std::int64_t reservation = sb::estimate_prompt_tokens(request_for("fast", false)) + max_tokens;
  const int chunks = static_cast<int>(reservation - 1);
  const std::int64_t fits = 20;
  const std::int64_t cap = fits * reservation + reservation / 2;

  sb::fakes::fake_options fo;
  fo.text = forty_words();
  fo.chunks = chunks;
  sb::fakes::fake_provider fast(fo);
  fo.chunk_delay = 120ms;  // ~2.9 s: still streaming when Redis is back and the counter rebuilt
  sb::fakes::fake_provider slow(fo);

  local_redis redis(free_loopback_port());
  const std::string ws = "span-" + unique_suffix();
  const std::string token = "token-" + ws;
  const std::string admin = "admin-" + ws;
  temp_dir dir;
  auto config_file = dir.write("switchboard.json", two_speed_config(ws, token, cap).dump());
  std::vector<std::unique_ptr<gateway_node>> gw;
  for (int n = 0; n < nodes; ++n)
    gw.push_back(std::make_unique<gateway_node>(
        config_file,
        node_env({{"openai", fast.base_url() + "/v1"}, {"deepseek", slow.base_url() + "/v1"}},
                 {{"REDIS_URL", redis.url()},
                  {"DATABASE_URL", pg_url.empty() ? dir.file("ledger.db") : pg_url},
                  {"GATEWAY_ADMIN_TOKEN", admin}})));
  auto node = [&](int i) { return gw[static_cast<std::size_t>(i % nodes)]->port(); };
  std::vector<std::pair<std::string, std::string>> auth{{"Authorization", "Bearer " + token}};
  auto chat = [&](int i, const json& body) {
    return try_request(node(i), "POST", "/v1/chat/completions", body.dump(), auth);
  };

  std::vector<std::future<http_response>> streams;
  for (int i = 0; i < 2; ++i)
    streams.push_back(std::async(std::launch::async, [&, i] { return chat(i, request_for("slow", true)); }));
  REQUIRE(slow.wait_for_requests(2, 10s));
  redis.kill();
  CHECK(chat(0, request_for("fast", false)).status == 503);
  std::this_thread::sleep_for(300ms);
  redis.start();
  std::this_thread::sleep_for(400ms);
  std::mutex mu;
  std::vector<int> statuses;
  run_concurrently(50, [&](int i) {
    auto r = chat(i, request_for("fast", false));
    std::lock_guard<std::mutex> lock(mu);
    statuses.push_back(r.status);
  });
  const bool streams_still_running = slow.request_count() == 2 &&
      streams[0].wait_for(0s) != std::future_status::ready;
  for (auto& s : streams) CHECK(s.get().status == 200);
  std::this_thread::sleep_for(300ms);  // the streams' settles
  const auto admitted_after = std::count(statuses.begin(), statuses.end(), 200);
  const std::int64_t admitted = 2 + admitted_after;

  json usage;
  for (int n = 0; n < nodes; ++n)
    usage = json::parse(http_request(node(n), "GET", "/v1/usage?workspace=" + ws, {}, {{"Authorization", "Bearer " + admin}}).body);
  usage = json::parse(http_request(node(0), "GET", "/v1/usage?workspace=" + ws, {}, {{"Authorization", "Bearer " + admin}}).body);
  auto store = sb::cluster::redis_quota_store::from_url(redis.url());
  REQUIRE(store);
  auto counter = (*store)->usage(ws, sb::cluster::current_period());
  REQUIRE(counter);
  const auto billed = usage["total_tokens"].get<std::int64_t>();
  INFO("cap " << cap << " (fits " << fits << "), admitted " << admitted << " (after " << admitted_after
              << "), billed " << billed << ", counter " << counter->tokens << ", streams spanned the rebuild "
              << streams_still_running);
  CHECK(streams_still_running);  // else this run did not test what it is about
  CHECK(static_cast<std::int64_t>(fast.request_count() + slow.request_count()) == admitted);
  CHECK(usage["upstream_calls"].get<std::int64_t>() == admitted);
  CHECK(billed == admitted * reservation);
  // Each spanning call counted once: not lost, not twice.
  CHECK(counter->tokens == billed);
  // The overshoot is bounded by the reservations lost with the data.
  const std::int64_t in_flight_at_loss = 2;
  CHECK(billed <= cap + in_flight_at_loss * reservation);
  CHECK(admitted <= fits + in_flight_at_loss);
  // And once they settled, the workspace is refused.
  CHECK(chat(0, request_for("fast", false)).status == 402);
  for (auto& g : gw) {
    g->process().signal(SIGTERM);
    CHECK(g->process().wait_exit(15s) == 0);
  }
}
