// Issue 5's acceptance test for the hard cap across a cluster: three gateway
// PROCESSES on one real Redis (and one PostgreSQL ledger when the test
// services provide one) take concurrent requests for one capped workspace.
// N nodes must admit no more than one node would: what is admitted, what the
// fake provider receives and what the ledger bills all stay within the cap.
//
// The fake bills exactly what a request reserves (prompt words + completion
// chunks == prompt estimate + max_tokens), so settles move nothing and the
// cap admits exactly floor(cap / reservation) requests: one too many is a
// leak, one too few a counter that lost track.

#include <mutex>

#include "cluster/billing_period.hpp"
#include "cluster/redis_quota_store.hpp"
#include "core/token_estimate.hpp"
#include "core/workspace_auth.hpp"
#include "tests/fakes/fake_provider.hpp"
#include "tests/integration/gateway_process.hpp"

using namespace sb::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr int nodes = 3;
constexpr int requests = 60;
constexpr std::int64_t max_tokens = 20;

json capped_request(bool stream) {
  json body = {{"model", "auto"},
               {"messages", {{{"role", "user"}, {"content", "hi"}}}},
               {"max_tokens", max_tokens}};
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
  }
  return body;
}

/// 40 words, so that any chunk count up to 40 splits on whole words.
std::string forty_words() {
  std::string s;
  for (int i = 0; i < 40; ++i) s += (i ? " w" : "w") + std::to_string(i);
  return s;
}

}  // namespace

TEST_CASE("three gateway processes on one Redis admit and bill no more than the monthly cap",
          "[cluster][cap][process]") {
  const auto redis_url = env_or_empty("SB_TEST_REDIS_URL");
  if (redis_url.empty()) {
    WARN("SB_TEST_REDIS_URL is not set: the 3-node cap test needs a Redis (tests/services.sh)");
    return;
  }
  const auto pg_url = env_or_empty("SB_TEST_DATABASE_URL");  // shared ledger when set

  // What one request reserves, and a fake that bills exactly that.
  const std::int64_t reservation = sb::estimate_prompt_tokens(capped_request(false)) + max_tokens;
  const std::int64_t prompt_words = 1;  // "hi": what the fake reports as prompt tokens
  const int completion_chunks = static_cast<int>(reservation - prompt_words);
  REQUIRE(completion_chunks > 0);
  REQUIRE(completion_chunks <= 40);
  const std::int64_t fits = 17;
  const std::int64_t cap = fits * reservation + reservation / 2;  // room for 17 and a half

  sb::fakes::fake_options fo;
  fo.threads = 2;
  fo.text = forty_words();
  fo.chunks = completion_chunks;
  fo.chunk_delay = 2ms;  // ~50 ms per call: reservations overlap across nodes
  sb::fakes::fake_provider fake(fo);

  // A workspace no other run has used: its Redis counter and ledger rows are new.
  const std::string ws = "cap-" + unique_suffix();
  const std::string token = "token-" + ws;
  const std::string admin = "admin-" + ws;
  temp_dir dir;
  json cfg = {{"workspaces",
               {{{"id", ws}, {"api_key_sha256", {sb::sha256_hex(token)}}, {"monthly_token_cap", cap}}}},
              {"retry", {{"server_error_retries", 0}}},
              {"timeouts", {{"connect_ms", 1000}, {"first_byte_ms", 5000}, {"total_ms", 10000}}}};
  auto config_file = dir.write("switchboard.json", cfg.dump());

  std::vector<std::unique_ptr<gateway_node>> gw;
  for (int n = 0; n < nodes; ++n) {
    auto db = pg_url.empty() ? dir.file("node" + std::to_string(n) + ".db") : pg_url;
    gw.push_back(std::make_unique<gateway_node>(
        config_file, node_env({{"openai", fake.base_url() + "/v1"}},
                              {{"REDIS_URL", redis_url}, {"DATABASE_URL", db}, {"GATEWAY_ADMIN_TOKEN", admin}})));
  }

  std::vector<std::pair<std::string, std::string>> auth{{"Authorization", "Bearer " + token}};
  std::mutex mu;
  std::vector<http_response> answers(requests);
  run_concurrently(requests, [&](int i) {
    auto& node = *gw[static_cast<std::size_t>(i % nodes)];
    auto r = try_request(node.port(), "POST", "/v1/chat/completions", capped_request(i % 3 == 0).dump(), auth);
    std::lock_guard<std::mutex> lock(mu);
    answers[static_cast<std::size_t>(i)] = std::move(r);
  });

  std::int64_t admitted = 0, refused = 0;
  for (auto& r : answers) {
    if (r.status == 200) {
      ++admitted;
      CHECK(!r.header("x-gateway-quota-remaining-tokens").empty());
    } else if (r.status == 402) {
      ++refused;
      CHECK(json::parse(r.body)["error"]["code"] == "workspace_cap_reached");
    } else {
      FAIL_CHECK("unexpected answer " << r.status << ": " << r.body);
    }
  }
  INFO("reservation " << reservation << " tokens, cap " << cap << ", admitted " << admitted << ", refused "
                      << refused << ", ledger " << (pg_url.empty() ? "SQLite per node" : "PostgreSQL"));

  // Admitted: never more than the cap allows, and here exactly that.
  CHECK(admitted * reservation <= cap);
  CHECK(admitted == fits);
  CHECK(admitted + refused == requests);
  // A refusal costs no upstream call: the fake saw the admitted ones only.
  CHECK(fake.request_count() == static_cast<std::size_t>(admitted));

  // Billed (the ledger): each node flushes its own buffer before it answers a
  // usage read, so read every node; with PostgreSQL the last read sees all.
  const auto period = sb::cluster::current_period();
  std::vector<std::pair<std::string, std::string>> admin_auth{{"Authorization", "Bearer " + admin}};
  auto read_ledger = [&] {
    json total = {{"upstream_calls", 0}, {"requests", 0}, {"total_tokens", 0}};
    std::vector<json> per_node;
    for (auto& node : gw) {
      auto r = http_request(node->port(), "GET", "/v1/usage?workspace=" + ws + "&period=" + period, {}, admin_auth);
      REQUIRE(r.status == 200);
      per_node.push_back(json::parse(r.body));
    }
    if (!pg_url.empty()) {
      // One more read after every node flushed: the shared ledger, complete.
      auto r = http_request(gw[0]->port(), "GET", "/v1/usage?workspace=" + ws, {}, admin_auth);
      REQUIRE(r.status == 200);
      return json::parse(r.body);
    }
    for (auto& u : per_node)
      for (auto k : {"upstream_calls", "requests", "total_tokens"})
        total[k] = total[k].get<std::int64_t>() + u[k].get<std::int64_t>();
    total["cap_tokens"] = per_node[0]["cap_tokens"];
    return total;
  };
  json usage;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  do {  // a row reaches the ledger actor just after its response: allow it a moment
    usage = read_ledger();
    if (usage["upstream_calls"].get<std::int64_t>() >= admitted) break;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  CHECK(usage["upstream_calls"] == admitted);
  CHECK(usage["requests"] == admitted);
  CHECK(usage["total_tokens"].get<std::int64_t>() == admitted * reservation);
  CHECK(usage["total_tokens"].get<std::int64_t>() <= cap);
  if (!pg_url.empty()) CHECK(usage["cap_tokens"] == cap);

  // The shared counter ends at what was billed (every settle applied once).
  auto store = sb::cluster::redis_quota_store::from_url(redis_url);
  REQUIRE(store);
  std::int64_t counted = -1;
  deadline = std::chrono::steady_clock::now() + 5s;
  do {
    auto u = (*store)->usage(ws, period);
    REQUIRE(u);
    counted = u->tokens;
    if (counted == admitted * reservation) break;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  CHECK(counted == admitted * reservation);

  // Every refusal is counted on the node that refused it.
  double rejections = 0;
  for (auto& node : gw)
    rejections += metric_value(http_request(node->port(), "GET", "/metrics").body,
                               "switchboard_quota_rejections_total{workspace=\"" + ws + "\"}");
  CHECK(rejections == static_cast<double>(refused));

  for (auto& node : gw) {
    node->process().signal(SIGTERM);
    CHECK(node->process().wait_exit(15s) == 0);
  }
}
