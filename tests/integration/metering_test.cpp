// Metering on the request path (SPEC 6): a ledger row per upstream call,
// usage reads per workspace and month, and the hard cap refusing before any
// upstream call.

#include <algorithm>
#include <sstream>

#include "cluster/billing_period.hpp"
#include "tests/integration/gateway_fixture.hpp"

using namespace sb::testing;
using nlohmann::json;

namespace {

std::vector<json> jsonl(const std::string& body) {
  std::vector<json> rows;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(json::parse(line));
  return rows;
}

}  // namespace

TEST_CASE("every upstream call writes a row and usage sums them per workspace", "[metering]") {
  sb::fakes::fake_provider fake;
  auto cfg = fast_config({{"workspaces",
                           {{{"id", "acme"}, {"api_key_sha256", {sha256_of("acme-token")}}},
                            {{"id", "globex"}, {"api_key_sha256", {sha256_of("globex-token")}}}}}});
  running_gateway gw(cfg, fake_env(fake.base_url(), {"openai"},
                                   {{"OPENAI_API_KEY_2", "sk-openai-2"}, {"GATEWAY_ADMIN_TOKEN", "admin-1"}}));
  std::vector<std::pair<std::string, std::string>> acme{{"Authorization", "Bearer acme-token"}};

  fake.script_for_key("sk-openai-1", sb::fakes::error_reply(sb::fakes::wire_format::openai, 429));
  auto body = user_message("auto", "one two three");
  body["user"] = "end-user-7";
  auto r = gw.chat(body, acme);
  REQUIRE(r.status == 200);
  REQUIRE(r.header("x-gateway-attempts") == "2");
  auto usage_reported = json::parse(r.body)["usage"];

  auto period = sb::cluster::current_period();
  auto events = http_request(gw.port(), "GET", "/v1/usage/events?period=" + period + "&format=jsonl", {}, acme);
  REQUIRE(events.status == 200);
  auto rows = jsonl(events.body);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["status"] == "error");
  CHECK(rows[0]["attempt"] == 1);
  CHECK(rows[0]["prompt_tokens"] == 0);
  CHECK(rows[1]["status"] == "ok");
  CHECK(rows[1]["attempt"] == 2);
  CHECK(rows[1]["prompt_tokens"] == usage_reported["prompt_tokens"]);
  CHECK(rows[1]["completion_tokens"] == usage_reported["completion_tokens"]);
  CHECK(rows[1]["estimated"] == false);
  for (auto& row : rows) {
    CHECK(row["request_id"] == r.header("x-request-id"));
    CHECK(row["workspace_id"] == "acme");
    CHECK(row["user_id"] == "end-user-7");
    CHECK(row["provider"] == "openai");
  }

  auto csv = http_request(gw.port(), "GET", "/v1/usage/events?format=csv", {}, acme);
  REQUIRE(csv.status == 200);
  CHECK(csv.body.rfind("timestamp,request_id,user_id,workspace_id,provider,model,", 0) == 0);
  CHECK(std::count(csv.body.begin(), csv.body.end(), '\n') == 3);

  auto usage = http_request(gw.port(), "GET", "/v1/usage?period=" + period, {}, acme);
  REQUIRE(usage.status == 200);
  auto u = json::parse(usage.body);
  CHECK(u["workspace"] == "acme");
  CHECK(u["period"] == period);
  CHECK(u["requests"] == 1);
  CHECK(u["upstream_calls"] == 2);
  CHECK(u["total_tokens"] == usage_reported["total_tokens"]);
  CHECK(u["cap_tokens"].is_null());
  CHECK(u["by_model"].size() == 1);

  // Scoping: a workspace reads only itself; the admin names one.
  CHECK(http_request(gw.port(), "GET", "/v1/usage?workspace=acme", {}, {{"Authorization", "Bearer globex-token"}}).status == 403);
  auto other = json::parse(http_request(gw.port(), "GET", "/v1/usage", {}, {{"Authorization", "Bearer globex-token"}}).body);
  CHECK(other["requests"] == 0);
  auto admin = http_request(gw.port(), "GET", "/v1/usage?workspace=acme", {}, {{"Authorization", "Bearer admin-1"}});
  REQUIRE(admin.status == 200);
  CHECK(json::parse(admin.body)["upstream_calls"] == 2);
  CHECK(http_request(gw.port(), "GET", "/v1/usage?period=2026-13", {}, acme).status == 400);
  CHECK(http_request(gw.port(), "GET", "/v1/usage").status == 401);
}

TEST_CASE("a request that does not fit the monthly cap gets 402 and costs no upstream call", "[metering][cap]") {
  sb::fakes::fake_provider fake;
  // Each request reserves its prompt estimate plus max_tokens 100.
  auto cfg = fast_config({{"workspaces",
                           {{{"id", "tiny"}, {"api_key_sha256", {sha256_of("tiny-token")}}, {"monthly_token_cap", 250}}}}});
  running_gateway gw(cfg, fake_env(fake.base_url(), {"openai"}));
  std::vector<std::pair<std::string, std::string>> tiny{{"Authorization", "Bearer tiny-token"}};
  auto body = user_message("auto", "hi");
  body["max_tokens"] = 100;

  int admitted = 0, refused = 0;
  sb::testing::http_response last_refusal;
  for (int i = 0; i < 20; ++i) {
    auto r = gw.chat(body, tiny);
    if (r.status == 200) {
      ++admitted;
      CHECK(!r.header("x-gateway-quota-remaining-tokens").empty());
    } else {
      REQUIRE(r.status == 402);
      ++refused;
      last_refusal = r;
    }
  }
  CHECK(refused > 0);
  CHECK(fake.request_count() == static_cast<std::size_t>(admitted));

  auto e = json::parse(last_refusal.body)["error"];
  CHECK(e["type"] == "insufficient_quota");
  CHECK(e["code"] == "workspace_cap_reached");
  auto msg = e["message"].get<std::string>();
  CHECK(msg.find("tiny") != std::string::npos);
  CHECK(msg.find("250") != std::string::npos);
  CHECK(msg.find(sb::cluster::current_period()) != std::string::npos);
  CHECK(msg.find("resets at") != std::string::npos);

  // What was billed never exceeds the cap.
  auto usage = json::parse(http_request(gw.port(), "GET", "/v1/usage", {}, tiny).body);
  CHECK(usage["total_tokens"].get<std::int64_t>() <= 250);
  CHECK(usage["cap_tokens"] == 250);
  CHECK(usage["requests"] == admitted);

  auto metrics = http_request(gw.port(), "GET", "/metrics").body;
  CHECK(metrics.find("switchboard_quota_rejections_total{workspace=\"tiny\"} " + std::to_string(refused)) != std::string::npos);
}

TEST_CASE("a model without a price is billed 0 and counted for ops", "[metering]") {
  sb::fakes::fake_provider fake;
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}, {{"LLM_MODEL_OPENAI", "mystery-model-9"}}));
  REQUIRE(gw.chat(user_message("auto")).status == 200);

  auto rows = jsonl(http_request(gw.port(), "GET", "/v1/usage/events").body);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["model"] == "mystery-model-9");
  CHECK(rows[0]["cost_estimate_usd"] == 0.0);
  CHECK(rows[0]["completion_tokens"].get<int>() > 0);

  auto metrics = http_request(gw.port(), "GET", "/metrics").body;
  CHECK(metrics.find("switchboard_unpriced_calls_total{model=\"mystery-model-9\",provider=\"openai\"} 1") !=
        std::string::npos);
  // The usage read above flushed the ledger: the row is written, none waits.
  CHECK(metrics.find("switchboard_ledger_written_rows 1") != std::string::npos);
  CHECK(metrics.find("switchboard_ledger_buffered_rows 0") != std::string::npos);
  CHECK(metrics.find("switchboard_ledger_dropped_rows 0") != std::string::npos);
}
