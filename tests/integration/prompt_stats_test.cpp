// Per-version prompt stats (SPEC 8, issue 7): with a canary split and
// requests that succeed, retry or fail, GET /v1/prompts/{name}/stats must
// say exactly what the ledger's rows (GET /v1/usage/events) say, with the
// definitions of cluster/prompt_stats.hpp; POST /v1/feedback scores a
// request of the caller's own workspace, the last score winning.

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <thread>

#include "cluster/billing_period.hpp"
#include "prompts/bucketing.hpp"
#include "tests/integration/gateway_fixture.hpp"
#include "tests/prompts/temp_prompt_dir.hpp"

using namespace sb::testing;
using nlohmann::json;

namespace {

using headers = std::vector<std::pair<std::string, std::string>>;
const headers acme{{"Authorization", "Bearer acme-token"}};
const headers globex{{"Authorization", "Bearer globex-token"}};
const headers admin{{"Authorization", "Bearer admin-1"}};

json prompt_request(const std::string& user, const std::string& prompt) {
  auto body = user_message("auto", "What should I do?");
  body["user"] = user;
  body["prompt"] = {{"id", prompt}, {"variables", {{"persona", "a pirate"}}}};
  return body;
}

std::vector<json> jsonl(const std::string& body) {
  std::vector<json> rows;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(json::parse(line));
  return rows;
}

/// The stats of one version recomputed from the ledger's rows, with the
/// definitions of cluster/prompt_stats.hpp, written out independently.
struct expected_version {
  std::int64_t requests = 0, upstream_calls = 0, errors = 0, prompt_tokens = 0, completion_tokens = 0;
  double cost = 0;
  std::vector<std::int64_t> latencies;
  std::vector<double> scores;
};

std::map<int, expected_version> expected_from_rows(const std::vector<json>& rows, const std::string& prompt,
                                                   const std::map<std::string, double>& scores) {
  struct request_acc {
    int version = 0, last_attempt = 0;
    std::string last_status;
    std::int64_t latency = 0, rows = 0, prompt_tokens = 0, completion_tokens = 0;
    double cost = 0;
  };
  std::map<std::string, request_acc> requests;
  for (auto& r : rows) {
    if (r["prompt_id"] != prompt) continue;
    auto& a = requests[r["request_id"].get<std::string>()];
    a.version = r["prompt_version"];
    a.rows += 1;
    a.latency += r["latency_ms"].get<std::int64_t>();
    a.prompt_tokens += r["prompt_tokens"].get<std::int64_t>();
    a.completion_tokens += r["completion_tokens"].get<std::int64_t>();
    a.cost += r["cost_estimate_usd"].get<double>();
    if (r["attempt"].get<int>() > a.last_attempt) {
      a.last_attempt = r["attempt"];
      a.last_status = r["status"];
    }
  }
  std::map<int, expected_version> out;
  for (auto& [id, a] : requests) {
    auto& v = out[a.version];
    v.requests += 1;
    v.upstream_calls += a.rows;
    v.errors += a.last_status != "ok";
    v.prompt_tokens += a.prompt_tokens;
    v.completion_tokens += a.completion_tokens;
    v.cost += a.cost;
    v.latencies.push_back(a.latency);
    if (auto s = scores.find(id); s != scores.end()) v.scores.push_back(s->second);
  }
  return out;
}

std::int64_t p95(std::vector<std::int64_t> v) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(v.size())));
  return v[std::max<std::size_t>(rank, 1) - 1];
}

}  // namespace

TEST_CASE("prompt stats per version match the ledger rows", "[prompts][prompt_stats]") {
  sb::prompts::testing::temp_prompt_dir prompts;
  prompts.write_locked("helper/v1.txt", "You are {{persona}}.");
  prompts.write_locked("helper/v2.txt", "You are {{persona}}, and brief.");
  prompts.write_locked("helper/v3.txt", "You are {{persona}}, unused.");
  prompts.write_locked("other/v1.txt", "Other {{persona}}.");
  prompts.write("helper/rollout.json", R"({"stable": 1, "canary": {"version": 2, "percent": 50}})");

  sb::fakes::fake_provider fake;
  auto cfg = fast_config({{"prompts_dir", prompts.dir()},
                          {"workspaces",
                           {{{"id", "acme"}, {"api_key_sha256", {sha256_of("acme-token")}}},
                            {{"id", "globex"}, {"api_key_sha256", {sha256_of("globex-token")}}}}}});
  running_gateway gw(cfg, fake_env(fake.base_url(), {"openai"}, {{"GATEWAY_ADMIN_TOKEN", "admin-1"}}));
  using sb::fakes::error_reply;
  using sb::fakes::wire_format;

  // Users on both arms; each request either succeeds, succeeds after a
  // retried 500 (two rows), or fails for good (400: not retried).
  std::vector<std::string> users = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"};
  std::map<int, int> per_arm;
  std::vector<std::string> request_ids;
  int i = 0;
  for (auto& user : users) {
    per_arm[sb::prompts::in_canary("helper", user, 50) ? 2 : 1] += 1;
    for (int k = 0; k < 3; ++k, ++i) {
      if (i % 5 == 1) fake.script(error_reply(wire_format::openai, 500));
      if (i % 7 == 3) fake.script(error_reply(wire_format::openai, 400));
      if (i % 4 == 0) {  // slower ones, so the p95 differs from the mean
        sb::fakes::scripted_reply slow;
        slow.head_delay = std::chrono::milliseconds(5 * (i % 9));
        fake.script(slow);
      }
      auto r = gw.chat(prompt_request(user, "helper"), acme);
      REQUIRE((r.status == 200 || r.status == 400));
      REQUIRE(!r.header("x-request-id").empty());
      request_ids.push_back(r.header("x-request-id"));
    }
  }
  REQUIRE(per_arm[1] > 0);
  REQUIRE(per_arm[2] > 0);
  // Traffic that must not count: another prompt, no prompt, another workspace.
  REQUIRE(gw.chat(prompt_request("alice", "other"), acme).status == 200);
  REQUIRE(gw.chat(user_message("auto"), acme).status == 200);
  auto foreign = gw.chat(prompt_request("alice", "helper"), globex);
  REQUIRE(foreign.status == 200);

  auto period = sb::cluster::current_period();
  auto events = http_request(gw.port(), "GET", "/v1/usage/events?period=" + period, {}, acme);
  REQUIRE(events.status == 200);
  auto rows = jsonl(events.body);

  // Feedback: scored requests, one re-scored (the second replaces the first).
  std::map<std::string, double> scores;
  auto post = [&](const std::string& id, json score, const headers& who) {
    return http_request(gw.port(), "POST", "/v1/feedback", json{{"request_id", id}, {"score", score}}.dump(), who);
  };
  for (std::size_t n = 0; n < request_ids.size(); n += 3) {
    double s = (n % 2 == 0) ? 1.0 : -0.5;
    REQUIRE(post(request_ids[n], s, acme).status == 200);
    scores[request_ids[n]] = s;
  }
  REQUIRE(post(request_ids[0], 0.25, acme).status == 200);
  scores[request_ids[0]] = 0.25;
  CHECK(post(request_ids[1], 1.5, acme).status == 400);      // out of range
  CHECK(post(request_ids[1], true, acme).status == 400);     // not a number
  CHECK(post(request_ids[1], "1", acme).status == 400);
  CHECK(http_request(gw.port(), "POST", "/v1/feedback", "not json", acme).status == 400);
  CHECK(post("req_does_not_exist", 1, acme).status == 404);
  CHECK(post(foreign.header("x-request-id"), 1, acme).status == 404);  // globex's request
  CHECK(post(request_ids[1], 1, globex).status == 404);                // acme's request
  CHECK(post(request_ids[1], 1, admin).status == 403);
  CHECK(post(request_ids[1], 1, {}).status == 401);

  auto expected = expected_from_rows(rows, "helper", scores);
  REQUIRE(expected.size() == 2);
  std::int64_t total_errors = 0, total_calls = 0, total_requests = 0;
  for (auto& [v, e] : expected) total_errors += e.errors, total_calls += e.upstream_calls, total_requests += e.requests;
  REQUIRE(total_requests == static_cast<std::int64_t>(request_ids.size()));
  REQUIRE(total_errors > 0);                 // some failed for good
  REQUIRE(total_calls > total_requests);     // some were retried

  auto check_stats = [&](const headers& who, const std::string& extra) {
    auto r = http_request(gw.port(), "GET", "/v1/prompts/helper/stats?period=" + period + extra, {}, who);
    REQUIRE(r.status == 200);
    auto body = json::parse(r.body);
    CHECK(body["prompt"] == "helper");
    CHECK(body["workspace"] == "acme");
    CHECK(body["period"] == period);
    CHECK(body["rollout"]["stable"] == 1);
    auto& versions = body["versions"];
    REQUIRE(versions.size() == 3);  // v3 is locked but got no traffic: a zero line
    for (auto& got : versions) {
      int v = got["version"];
      INFO("version " << v);
      if (v == 3) {
        CHECK(got["requests"] == 0);
        CHECK(got["mean_feedback_score"].is_null());
        continue;
      }
      auto& e = expected.at(v);
      CHECK(got["requests"] == e.requests);
      CHECK(got["upstream_calls"] == e.upstream_calls);
      CHECK(got["errors"] == e.errors);
      CHECK(got["prompt_tokens"] == e.prompt_tokens);
      CHECK(got["completion_tokens"] == e.completion_tokens);
      CHECK(got["total_tokens"] == e.prompt_tokens + e.completion_tokens);
      CHECK(got["cost_estimate_usd"].get<double>() == Approx(e.cost));
      double mean = 0;
      for (auto l : e.latencies) mean += static_cast<double>(l);
      mean /= static_cast<double>(e.latencies.size());
      CHECK(got["mean_latency_ms"].get<double>() == Approx(mean));
      CHECK(got["p95_latency_ms"] == p95(e.latencies));
      CHECK(got["feedback_count"] == e.scores.size());
      if (e.scores.empty()) {
        CHECK(got["mean_feedback_score"].is_null());
      } else {
        double s = 0;
        for (auto x : e.scores) s += x;
        CHECK(got["mean_feedback_score"].get<double>() == Approx(s / static_cast<double>(e.scores.size())));
      }
    }
  };
  check_stats(acme, "");
  check_stats(admin, "&workspace=acme");

  // Scoping and errors.
  auto theirs = json::parse(http_request(gw.port(), "GET", "/v1/prompts/helper/stats", {}, globex).body);
  CHECK(theirs["workspace"] == "globex");
  CHECK(theirs["versions"][0]["requests"].get<int>() + theirs["versions"][1]["requests"].get<int>() == 1);
  CHECK(http_request(gw.port(), "GET", "/v1/prompts/helper/stats?workspace=acme", {}, globex).status == 403);
  CHECK(http_request(gw.port(), "GET", "/v1/prompts/helper/stats", {}, admin).status == 400);
  CHECK(http_request(gw.port(), "GET", "/v1/prompts/helper/stats?period=2026-13", {}, acme).status == 400);
  CHECK(http_request(gw.port(), "GET", "/v1/prompts/nope/stats", {}, acme).status == 404);
  CHECK(http_request(gw.port(), "GET", "/v1/prompts/helper/stats").status == 401);
  CHECK(http_request(gw.port(), "POST", "/v1/prompts/helper/stats", "{}", acme).status == 405);
}

TEST_CASE("a rollout PUT on one node is applied by another sharing Redis", "[prompts][cluster]") {
  const char* redis = std::getenv("SB_TEST_REDIS_URL");
  if (!redis || !*redis) {
    WARN("SB_TEST_REDIS_URL is not set: the two-node rollout test is SKIPPED");
    return;
  }
  // Two nodes, two disks: the split travels in the message (ADR-0012).
  sb::prompts::testing::temp_prompt_dir disk_a, disk_b;
  for (auto* d : {&disk_a, &disk_b}) {
    d->write_locked("twonode/v1.txt", "One {{persona}}.");
    d->write_locked("twonode/v2.txt", "Two {{persona}}.");
    d->write("twonode/rollout.json", R"({"stable": 1})");
  }
  sb::fakes::fake_provider fake;
  auto env = fake_env(fake.base_url(), {"openai"}, {{"GATEWAY_ADMIN_TOKEN", "admin-1"}, {"REDIS_URL", redis}});
  running_gateway a(fast_config({{"prompts_dir", disk_a.dir()}}), env);
  running_gateway b(fast_config({{"prompts_dir", disk_b.dir()}}), env);
  auto put = http_request(a.port(), "PUT", "/admin/prompts/twonode/rollout", R"({"stable": 2})", admin);
  REQUIRE(put.status == 200);
  std::string seen;
  for (int i = 0; i < 100 && seen != "twonode@v2"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto r = b.chat(prompt_request("zoe", "twonode"));
    REQUIRE(r.status == 200);
    seen = r.header("x-gateway-prompt");
  }
  CHECK(seen == "twonode@v2");
  CHECK(json::parse(disk_b.read("twonode/rollout.json"))["stable"] == 2);
  // Put it back, so a later run on this Redis starts from v1 again.
  REQUIRE(http_request(b.port(), "PUT", "/admin/prompts/twonode/rollout", R"({"stable": 1})", admin).status == 200);
}
