#include <catch2/catch.hpp>

#include "core/workspace_auth.hpp"

using namespace sb;

namespace {

gateway_config closed_config() {
  gateway_config cfg;
  cfg.workspaces.push_back({"acme", {sha256_hex("acme-token-1"), sha256_hex("acme-token-2")}, {}, {}});
  cfg.workspaces.push_back({"globex", {sha256_hex("globex-token")}, 100, {}});
  cfg.admin_token = "admin-secret";
  return cfg;
}

std::string workspace_of(const std::variant<const workspace_config*, api_error>& r) {
  if (auto* e = std::get_if<api_error>(&r)) FAIL("unexpected error: " << e->message);
  return std::get<const workspace_config*>(r)->id;
}

api_error error_of(const std::variant<const workspace_config*, api_error>& r) {
  REQUIRE(std::holds_alternative<api_error>(r));
  return std::get<api_error>(r);
}

}  // namespace

TEST_CASE("sha256_hex matches known digests") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("test") == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
}

TEST_CASE("constant_time_equals compares whole strings") {
  CHECK(constant_time_equals("abc", "abc"));
  CHECK(constant_time_equals("", ""));
  CHECK_FALSE(constant_time_equals("abc", "abd"));
  CHECK_FALSE(constant_time_equals("abc", "abcd"));
}

TEST_CASE("bearer_token extracts the token") {
  CHECK(bearer_token(std::string_view("Bearer tok")) == std::optional<std::string_view>("tok"));
  CHECK(bearer_token(std::string_view("bearer   tok  ")) == std::optional<std::string_view>("tok"));
  CHECK_FALSE(bearer_token(std::nullopt));
  CHECK_FALSE(bearer_token(std::string_view("Basic dXNlcjpwYXNz")));
  CHECK_FALSE(bearer_token(std::string_view("Bearer")));
  CHECK_FALSE(bearer_token(std::string_view("Bearer   ")));
  CHECK_FALSE(bearer_token(std::string_view("Bearertok")));
}

TEST_CASE("open mode: the default workspace - whatever the header") {
  gateway_config cfg;
  REQUIRE(cfg.open_mode());
  CHECK(workspace_of(authenticate(cfg, std::nullopt)) == "default");
  CHECK(workspace_of(authenticate(cfg, std::string_view("Bearer anything"))) == "default");
  CHECK(workspace_of(authenticate(cfg, std::string_view("garbage"))) == "default");
  CHECK(&open_workspace() == std::get<const workspace_config*>(authenticate(cfg, std::nullopt)));
}

TEST_CASE("workspaces: a good token names its workspace") {
  auto cfg = closed_config();
  CHECK(workspace_of(authenticate(cfg, std::string_view("Bearer acme-token-1"))) == "acme");
  CHECK(workspace_of(authenticate(cfg, std::string_view("Bearer acme-token-2"))) == "acme");
  CHECK(workspace_of(authenticate(cfg, std::string_view("Bearer globex-token"))) == "globex");
  CHECK(std::get<const workspace_config*>(authenticate(cfg, std::string_view("Bearer globex-token"))) ==
        &cfg.workspaces[1]);
}

TEST_CASE("workspaces: missing - malformed or wrong tokens are 401 without echoing the secret") {
  auto cfg = closed_config();
  auto missing = error_of(authenticate(cfg, std::nullopt));
  CHECK(missing.status == 401);
  CHECK(missing.message.find("Authorization") != std::string::npos);

  auto malformed = error_of(authenticate(cfg, std::string_view("Token acme-token-1")));
  CHECK(malformed.status == 401);
  CHECK(malformed.message.find("Bearer") != std::string::npos);

  auto wrong = error_of(authenticate(cfg, std::string_view("Bearer sk-WRONGSECRET-9z9z")));
  CHECK(wrong.status == 401);
  CHECK(wrong.code == "invalid_api_key");
  CHECK(wrong.message.find("WRONGSECRET") == std::string::npos);
  CHECK(wrong.message.find("9z9z") != std::string::npos);  // last 4 help find the culprit

  // The admin token is not a workspace token.
  CHECK(error_of(authenticate(cfg, std::string_view("Bearer admin-secret"))).status == 401);
}

TEST_CASE("is_admin: the admin token only - never when none is set") {
  auto cfg = closed_config();
  CHECK(is_admin(cfg, "admin-secret"));
  CHECK_FALSE(is_admin(cfg, "admin-secreT"));
  CHECK_FALSE(is_admin(cfg, "acme-token-1"));
  CHECK_FALSE(is_admin(cfg, ""));
  cfg.admin_token.clear();
  CHECK_FALSE(is_admin(cfg, ""));
  CHECK_FALSE(is_admin(cfg, "admin-secret"));
}
