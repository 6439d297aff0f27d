// Upstream TLS for real: a fake provider behind HTTPS with a test certificate
// made now; verification on, so a CA the gateway does not trust fails.

#include <cstdlib>
#include <filesystem>

#include "tests/integration/gateway_fixture.hpp"

using namespace sb::testing;
using nlohmann::json;

namespace {

struct test_certificate {
  std::filesystem::path dir;
  test_certificate() {
    char tmpl[] = "/tmp/sb-tls-XXXXXX";
    dir = ::mkdtemp(tmpl);
    auto cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + (dir / "key.pem").string() +
               " -out " + (dir / "cert.pem").string() +
               " -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost"
               " >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  ~test_certificate() { std::filesystem::remove_all(dir); }
  [[nodiscard]] std::string cert() const { return (dir / "cert.pem").string(); }
  [[nodiscard]] std::string key() const { return (dir / "key.pem").string(); }
};

}  // namespace

TEST_CASE("an HTTPS upstream with a verified certificate serves whole and streamed answers", "[https]") {
  test_certificate tls;
  sb::fakes::fake_options fo;
  fo.tls_cert_file = tls.cert();
  fo.tls_key_file = tls.key();
  fo.text = "secure hello";
  sb::fakes::fake_provider fake(fo);
  REQUIRE(fake.base_url().rfind("https://", 0) == 0);

  sb::gateway_options opts;
  opts.upstream_ca_file = tls.cert();
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}), opts);

  check_whole_and_streamed(gw, "auto", "secure hello");
}

TEST_CASE("an HTTPS upstream whose certificate is not trusted fails - verification stays on", "[https]") {
  test_certificate tls;
  sb::fakes::fake_options fo;
  fo.tls_cert_file = tls.cert();
  fo.tls_key_file = tls.key();
  sb::fakes::fake_provider fake(fo);

  running_gateway gw(fast_config({{"retry", {{"server_error_retries", 0}}}}), fake_env(fake.base_url(), {"openai"}));
  auto r = gw.chat(user_message("auto"));
  CHECK(r.status == 502);
  auto e = json::parse(r.body)["error"];
  CHECK(e["code"] == "all_providers_failed");
  CHECK(e["attempts"][0]["error"].get<std::string>().find("tls") != std::string::npos);
  CHECK(fake.request_count() == 0);  // the request never left the gateway
}
