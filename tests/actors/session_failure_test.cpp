// A session that fails (here: an adapter that throws) still answers its
// request with a 500 envelope, and the actors around it keep serving.

#include <future>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/provider_supervisor.hpp"
#include "actors/session_actor.hpp"
#include "metrics/gateway_metrics.hpp"
#include "tests/actors/actor_test_support.hpp"

using namespace sb;
using namespace sb::actors;
using namespace std::chrono_literals;

namespace {

class throwing_adapter final : public providers::adapter {
 public:
  providers::encoded_request encode(const nlohmann::json&, const std::string&, const std::string&,
                                    bool) const override {
    throw std::runtime_error("adapter bug");
  }
  std::variant<providers::decoded_completion, std::string> decode_response(std::string_view,
                                                                           const std::string&) const override {
    return std::string("unused");
  }
  providers::failure classify(int, std::string_view) const override { return {}; }
  std::unique_ptr<providers::stream_decoder> make_stream_decoder(const std::string&, const std::string&,
                                                                 std::int64_t) const override {
    return nullptr;
  }
};

/// Records the one answer a session gives.
class recording_responder final : public net::responder {
 public:
  std::promise<std::pair<int, std::string>> answer;
  void respond(int status, net::header_list, std::string body) override {
    answer.set_value({status, std::move(body)});
  }
  void start_stream(int, net::header_list) override {}
  void write(std::string) override {}
  void finish() override {}
  void on_client_gone(std::function<void()>) override {}
  [[nodiscard]] std::size_t pending_bytes() const override { return 0; }
};

}  // namespace

TEST_CASE("a session that throws answers 500 and harms nothing else", "[actors][session]") {
  caf::actor_system sys{testing::small_actor_config()};
  gateway_metrics metrics;
  provider_directory directory;

  auto cfg = std::make_shared<gateway_config>();
  provider_config p;
  p.id = "openai";
  p.base_url = "http://127.0.0.1:1";
  p.keys = {{"openai#1", "sk-one"}};
  p.models = {"gpt-4o-mini"};
  cfg->chain = {"openai"};
  cfg->providers = {p};
  auto supervisor = spawn_provider_supervisor(sys, *cfg, &directory, &metrics);
  REQUIRE(testing::eventually([&] { return directory.find("openai").has_value(); }));

  auto ctx = std::make_shared<gateway_context>();
  ctx->config = cfg;
  ctx->directory = &directory;
  ctx->metrics = &metrics;
  ctx->providers.emplace("openai", provider_entry{&cfg->providers[0], std::make_unique<throwing_adapter>()});

  for (int i = 0; i < 2; ++i) {
    chat_job job;
    job.request_id = "req_00000000000000000000000" + std::to_string(i);
    job.body = sb::chat_body({{"model", "auto"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}});
    job.targets = {{"openai", "gpt-4o-mini"}};
    job.workspace = "default";
    auto out = std::make_shared<recording_responder>();
    auto answered = out->answer.get_future();
    spawn_session(sys, ctx, std::move(job), out);
    REQUIRE(answered.wait_for(5s) == std::future_status::ready);
    auto [status, body] = answered.get();
    CHECK(status == 500);
    auto e = nlohmann::json::parse(body)["error"];
    CHECK(e["type"] == "server_error");
    CHECK(e["code"] == "internal_error");
  }

  // The provider actor the failed sessions talked to is still there and serves.
  caf::scoped_actor self{sys};
  key_grant g;
  self->request(*directory.find("openai"), 2s, acquire_atom::value, std::string("gpt-4o-mini"))
      .receive([&](key_grant& x) { g = x; }, [&](caf::error&) {});
  CHECK(g.what == key_grant::kind::leased);
  caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
}
