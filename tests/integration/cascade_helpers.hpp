#pragma once
// What the cascade tests read besides the chat answer: the ops views
// (/admin/keys, /metrics), the gateway's log, and which key each upstream
// request carried. Kept apart so each test reads as the row it proves.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/gateway_fixture.hpp"

namespace sb::testing {

inline const std::string admin_token = "admin-token-for-cascade-tests";

/// fake_env for the given providers with a second key for each provider in
/// `two_keys` ("sk-<p>-2") and the admin token set.
inline environment cascade_env(const sb::fakes::fake_provider& fake, std::initializer_list<std::string> providers,
                               std::initializer_list<std::string> two_keys = {}, environment extra = {}) {
  auto env = fake_env(fake.base_url(), providers, std::move(extra));
  for (auto& p : two_keys) {
    std::string prefix = p;
    for (auto& c : prefix) c = static_cast<char>(::toupper(c));
    env[prefix + "_API_KEY_2"] = "sk-" + p + "-2";
  }
  env["GATEWAY_ADMIN_TOKEN"] = admin_token;
  return env;
}

/// GET /admin/keys as JSON, keyed by key id.
inline std::map<std::string, nlohmann::json> admin_keys(const running_gateway& gw) {
  auto r = http_request(gw.port(), "GET", "/admin/keys", {}, {{"Authorization", "Bearer " + admin_token}});
  INFO("/admin/keys: " << r.body);
  REQUIRE(r.status == 200);
  std::map<std::string, nlohmann::json> out;
  for (auto& k : nlohmann::json::parse(r.body)) out[k["id"].get<std::string>()] = k;
  return out;
}

/// Seconds from now until an ISO 8601 UTC time ("2024-05-01T12:00:30Z").
inline double seconds_until(const std::string& iso) {
  std::tm tm{};
  if (!strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return -1e9;
  auto t = std::chrono::system_clock::from_time_t(timegm(&tm));
  return std::chrono::duration<double>(t - std::chrono::system_clock::now()).count();
}

inline std::string metrics_text(const running_gateway& gw) {
  auto r = http_request(gw.port(), "GET", "/metrics");
  REQUIRE(r.status == 200);
  return r.body;
}

/// The value of the sample `name` whose labels include all of `labels`,
/// summed over the samples that match; -1 when none does.
inline double metric(const std::string& text, const std::string& name,
                     const std::map<std::string, std::string>& labels) {
  std::istringstream in(text);
  std::string line;
  double sum = 0;
  bool found = false;
  while (std::getline(in, line)) {
    if (line.rfind(name + "{", 0) != 0) continue;
    auto close = line.find('}');
    auto label_text = line.substr(name.size(), close - name.size() + 1);
    bool all = true;
    for (auto& [k, v] : labels) all = all && label_text.find(k + "=\"" + v + "\"") != std::string::npos;
    if (!all) continue;
    found = true;
    sum += std::stod(line.substr(close + 1));
  }
  return found ? sum : -1;
}

/// The upstream requests that carried `api_key`.
inline std::vector<sb::fakes::recorded_request> sent_with_key(const sb::fakes::fake_provider& fake,
                                                              const std::string& api_key) {
  std::vector<sb::fakes::recorded_request> out;
  for (auto& r : fake.received())
    if (r.api_key == api_key) out.push_back(r);
  return out;
}

/// The model a recorded upstream request asked for, whatever its format
/// (Gemini names it in the path).
inline std::string model_of(const sb::fakes::recorded_request& r) {
  auto at = r.target.find("/models/");
  if (at != std::string::npos) {
    auto start = at + 8;
    return r.target.substr(start, r.target.find(':', start) - start);
  }
  return nlohmann::json::parse(r.body).value("model", "");
}

inline std::chrono::milliseconds gap(const sb::fakes::recorded_request& a, const sb::fakes::recorded_request& b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b.received_at - a.received_at);
}

/// Small things the table-driven tests share.
using header_list = std::vector<std::pair<std::string, std::string>>;

inline sb::fakes::scripted_reply with_headers(sb::fakes::scripted_reply r, const header_list& headers) {
  for (auto& h : headers) r.headers.push_back(h);
  return r;
}

inline std::string rfc3339_in(std::chrono::seconds s) {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

inline std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(::toupper(c));
  return s;
}

inline int attempts_of(const http_response& r) { return std::stoi(r.header("x-gateway-attempts")); }

// The message a provider's error body carries, whatever the envelope.
inline std::string provider_message(sb::fakes::wire_format f, int status, std::string_view code = {}) {
  return nlohmann::json::parse(sb::fakes::error_body(f, status, code))["error"]["message"];
}

/// Captures what the process writes to stderr (the gateway's log) while it
/// lives: the credential row must leave an ERROR line, and no secret.
class stderr_capture {
 public:
  stderr_capture() {
    std::fflush(stderr);
    path_ = "/tmp/sb_cascade_log_XXXXXX";
    int fd = ::mkstemp(path_.data());
    saved_ = ::dup(2);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~stderr_capture() { restore(); }
  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;

  /// Everything written so far.
  std::string text() const {
    std::fflush(stderr);
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
    ::unlink(path_.c_str());
  }
  std::string path_;
  int saved_ = -1;
};

}  // namespace sb::testing
