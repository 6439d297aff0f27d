// GET /metrics after real traffic: every SPEC section 10 family is there, and
// promtool (Prometheus's own linter) accepts the exposition.

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/integration/gateway_fixture.hpp"

using namespace sb::testing;
using nlohmann::json;

namespace {

/// Runs `promtool check metrics` on `text`; returns its exit code and output.
std::pair<int, std::string> promtool_check(const std::string& text) {
  char tmpl[] = "/tmp/sb-metrics-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ::close(fd);
  std::ofstream(tmpl) << text;
  std::string cmd = "promtool check metrics < " + std::string(tmpl) + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  int rc = ::pclose(p);
  std::remove(tmpl);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

}  // namespace

TEST_CASE("metrics after real traffic pass promtool and name every SPEC family", "[metrics]") {
  sb::fakes::fake_provider fake;
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}, {{"OPENAI_API_KEY_2", "sk-openai-2"}}));

  REQUIRE(gw.chat(user_message("auto")).status == 200);
  auto streamed = user_message("auto");
  streamed["stream"] = true;
  REQUIRE(gw.chat(streamed).status == 200);
  REQUIRE(gw.chat(user_message("nope")).status == 400);
  fake.script_for_key("sk-openai-1", sb::fakes::error_reply(sb::fakes::wire_format::openai, 429));
  fake.script_for_key("sk-openai-2", sb::fakes::error_reply(sb::fakes::wire_format::openai, 429));
  fake.script_for_key("sk-openai-1", sb::fakes::error_reply(sb::fakes::wire_format::openai, 429));
  auto rotated = gw.chat(user_message("auto"));
  int ok_answers = rotated.status == 200 ? 3 : 2;

  auto r = http_request(gw.port(), "GET", "/metrics");
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type").find("text/plain; version=0.0.4") == 0);

  auto [rc, out] = promtool_check(r.body);
  INFO(out);
  CHECK(rc == 0);

  for (const char* family :
       {"switchboard_requests_total", "switchboard_request_duration_seconds",
        "switchboard_upstream_attempts_total", "switchboard_upstream_latency_seconds",
        "switchboard_time_to_first_token_seconds", "switchboard_tokens_total",
        "switchboard_cost_usd_total", "switchboard_key_state", "switchboard_credential_errors_total",
        "switchboard_quota_rejections_total", "switchboard_active_streams",
        "switchboard_upstream_cancellations_total"}) {
    INFO(family);
    CHECK(r.body.find(std::string("# TYPE ") + family + " ") != std::string::npos);
  }
  CHECK(r.body.find("switchboard_requests_total{status=\"200\",workspace=\"default\"} " +
                    std::to_string(ok_answers)) != std::string::npos);
  CHECK(r.body.find("switchboard_requests_total{status=\"400\",workspace=\"default\"} 1") != std::string::npos);
  CHECK(r.body.find("outcome=\"rate_limited\"") != std::string::npos);
  CHECK(r.body.find("switchboard_key_state{key_id=\"openai#1\",provider=\"openai\",state=\"ready\"}") != std::string::npos);

  // promtool does not catch these two, so we do: no series twice, and every
  // histogram ends with a +Inf bucket.
  std::set<std::string> series;
  std::istringstream lines(r.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto key = line.substr(0, line.rfind(' '));
    INFO(key);
    CHECK(series.insert(key).second);
  }
  CHECK(r.body.find("switchboard_request_duration_seconds_bucket{le=\"+Inf\"}") != std::string::npos);
}
