// What only the real process shows: exit codes for refused configurations,
// the start-up message without keys, and SIGTERM draining in-flight work.

#include <fstream>
#include <future>

#include "tests/integration/gateway_fixture.hpp"
#include "tests/integration/process_runner.hpp"

using namespace sb::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string temp_file(const std::string& content) {
  char tmpl[] = "/tmp/sb-config-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ::close(fd);
  std::ofstream(tmpl) << content;
  return tmpl;
}

}  // namespace

TEST_CASE("a config file that breaks the schema stops the start naming the key", "[process]") {
  auto file = temp_file(R"({"retry": {"backoff_base_ms": "fast"}})");
  child_process p({switchboard_binary(), "--config", file, "--listen", "127.0.0.1:0"}, {});
  CHECK(p.wait_exit(10s) == 2);
  CHECK(p.output().find("retry.backoff_base_ms") != std::string::npos);
  std::remove(file.c_str());
}

TEST_CASE("a config file that is not JSON stops the start with exit code 2", "[process]") {
  auto file = temp_file("{ not json");
  child_process p({switchboard_binary(), "--config", file, "--listen", "127.0.0.1:0"}, {});
  CHECK(p.wait_exit(10s) == 2);
  std::remove(file.c_str());
}

TEST_CASE("open mode refuses a non-loopback listen address", "[process]") {
  child_process p({switchboard_binary(), "--listen", "0.0.0.0:0"}, {});
  CHECK(p.wait_exit(10s) == 2);
  CHECK(p.output().find("refusing to listen on 0.0.0.0") != std::string::npos);
}

TEST_CASE("a bad env value stops the start naming the variable", "[process]") {
  child_process p({switchboard_binary(), "--listen", "127.0.0.1:0"},
                  {{"OPENAI_API_KEY", "sk-x"}, {"OPENAI_BASE_URL", "ftp://nowhere"}});
  CHECK(p.wait_exit(10s) == 2);
  CHECK(p.output().find("OPENAI_BASE_URL") != std::string::npos);
}

TEST_CASE("without keys it starts - says which env vars to set - and answers 503", "[process]") {
  child_process p({switchboard_binary(), "--listen", "127.0.0.1:0"},
                  {{"OPENAI_API_KEY", ""}, {"ANTHROPIC_API_KEY", ""}, {"GOOGLE_API_KEY", ""}});
  auto port = p.wait_for_output("listening on port (\\d+)", 10s);
  REQUIRE(port);
  CHECK(p.output().find("OPENAI_API_KEY") != std::string::npos);
  auto r = http_request(static_cast<std::uint16_t>(std::stoi(*port)), "POST", "/v1/chat/completions",
                        user_message("auto").dump());
  CHECK(r.status == 503);
  p.signal(SIGTERM);
  CHECK(p.wait_exit(10s) == 0);
}

TEST_CASE("SIGTERM finishes in-flight requests - refuses new ones - and exits 0", "[process][drain]") {
  sb::fakes::fake_provider fake;
  sb::fakes::scripted_reply slow;
  slow.chunk_delay = 100ms;  // 8 chunks: ~800 ms in flight
  fake.script(slow);
  child_process p({switchboard_binary(), "--listen", "127.0.0.1:0"},
                  {{"OPENAI_API_KEY", "sk-drain"}, {"OPENAI_BASE_URL", fake.base_url() + "/v1"}});
  auto port_text = p.wait_for_output("listening on port (\\d+)", 10s);
  REQUIRE(port_text);
  auto port = static_cast<std::uint16_t>(std::stoi(*port_text));

  auto body = user_message("auto");
  body["stream"] = true;
  auto in_flight = std::async(std::launch::async, [&] {
    return http_request(port, "POST", "/v1/chat/completions", body.dump());
  });
  REQUIRE(fake.wait_for_requests(1, 5s));
  p.signal(SIGTERM);

  auto r = in_flight.get();
  CHECK(r.status == 200);
  CHECK(sse_data(r.body).back() == "[DONE]");
  CHECK(p.wait_exit(10s) == 0);
  CHECK_THROWS(http_connection(port));  // nobody listens any more
  CHECK(p.output().find("draining") != std::string::npos);
}

TEST_CASE("secrets never reach the log", "[process]") {
  sb::fakes::fake_provider fake;
  fake.script(sb::fakes::error_reply(sb::fakes::wire_format::openai, 401));
  const std::string secret = "sk-very-secret-value-123456";
  child_process p({switchboard_binary(), "--listen", "127.0.0.1:0"},
                  {{"OPENAI_API_KEY", secret}, {"OPENAI_BASE_URL", fake.base_url() + "/v1"}});
  auto port = p.wait_for_output("listening on port (\\d+)", 10s);
  REQUIRE(port);
  http_request(static_cast<std::uint16_t>(std::stoi(*port)), "POST", "/v1/chat/completions",
               user_message("auto").dump());
  p.signal(SIGTERM);
  REQUIRE(p.wait_exit(10s) == 0);
  CHECK(p.output().find(secret) == std::string::npos);
  CHECK(p.output().find("openai#1") != std::string::npos);  // keys are named by id
}
