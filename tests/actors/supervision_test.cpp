// Supervision: a key actor or a provider actor that dies is restarted, and a
// restarted key remembers its cooldown.

#include <catch2/catch.hpp>

#include "actors/provider_actor.hpp"
#include "actors/provider_supervisor.hpp"
#include "metrics/gateway_metrics.hpp"
#include "tests/actors/actor_test_support.hpp"

using namespace sb;
using namespace sb::actors;
using namespace std::chrono_literals;

namespace {

provider_config two_key_provider() {
  provider_config p;
  p.id = "openai";
  p.base_url = "http://127.0.0.1:1";
  p.keys = {{"openai#1", "sk-one"}, {"openai#2", "sk-two"}};
  p.models = {"gpt-4o-mini"};
  return p;
}

std::vector<key_actor> key_actors(caf::scoped_actor& self, const provider_actor& p) {
  std::vector<key_actor> out;
  self->request(p, 2s, keys_atom::value).receive([&](std::vector<key_actor>& k) { out = k; },
                                                  [&](caf::error&) {});
  return out;
}

std::vector<key_snapshot> snapshot(caf::scoped_actor& self, const provider_actor& p) {
  std::vector<key_snapshot> out;
  self->request(p, 2s, snapshot_atom::value).receive([&](std::vector<key_snapshot>& s) { out = s; },
                                                      [&](caf::error&) {});
  return out;
}

key_grant acquire(caf::scoped_actor& self, const provider_actor& p) {
  key_grant g;
  self->request(p, 2s, acquire_atom::value, std::string("gpt-4o-mini"))
      .receive([&](key_grant& x) { g = x; }, [&](caf::error&) {});
  return g;
}

}  // namespace

TEST_CASE("a key actor that dies is restarted from what its provider knew", "[actors][supervision]") {
  caf::actor_system sys{testing::small_actor_config()};
  gateway_metrics metrics;
  auto provider = spawn_provider_actor(sys, two_key_provider(), retry_config{}, &metrics);
  caf::scoped_actor self{sys};

  attempt_report r;
  r.slot = 0;
  r.status = 429;
  r.kind = providers::failure_kind::rate_limited;
  r.headers = {{"retry-after", "60"}};
  self->send(provider, report_atom::value, r);
  REQUIRE(testing::eventually([&] { return snapshot(self, provider)[0].state == key_status::cooling; }));

  auto before = key_actors(self, provider);
  REQUIRE(before.size() == 2);
  caf::anon_send_exit(before[0], caf::exit_reason::kill);

  REQUIRE(testing::eventually([&] {
    auto now = key_actors(self, provider);
    return now.size() == 2 && now[0] != before[0];
  }));
  auto after = key_actors(self, provider);
  CHECK(after[1] == before[1]);  // its sibling was left alone
  auto snap = snapshot(self, provider);
  CHECK(snap[0].state == key_status::cooling);  // the cooldown survived the crash
  CHECK(snap[0].last_status == 429);

  // The restarted key answers, and acquire still skips the cooling one.
  key_snapshot direct;
  self->request(after[0], 2s, snapshot_atom::value).receive([&](key_snapshot& s) { direct = s; },
                                                            [&](caf::error&) {});
  CHECK(direct.id == "openai#1");
  CHECK(direct.state == key_status::cooling);
  auto g = acquire(self, provider);
  CHECK(g.what == key_grant::kind::leased);
  CHECK(g.key_id == "openai#2");
  caf::anon_send_exit(provider, caf::exit_reason::user_shutdown);
}

TEST_CASE("a provider actor that dies is restarted and published again", "[actors][supervision]") {
  caf::actor_system sys{testing::small_actor_config()};
  gateway_metrics metrics;
  provider_directory directory;
  gateway_config cfg;
  cfg.chain = {"openai"};
  cfg.providers = {two_key_provider()};
  auto supervisor = spawn_provider_supervisor(sys, cfg, &directory, &metrics);
  caf::scoped_actor self{sys};

  REQUIRE(testing::eventually([&] { return directory.find("openai").has_value(); }));
  auto first = *directory.find("openai");
  caf::anon_send_exit(first, caf::exit_reason::kill);

  REQUIRE(testing::eventually([&] { return *directory.find("openai") != first; }));
  auto second = *directory.find("openai");
  auto g = acquire(self, second);
  CHECK(g.what == key_grant::kind::leased);
  CHECK(g.key_id == "openai#1");

  // Stopping the supervisor stops the providers it supervises.
  self->monitor(second);
  caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
  bool down = false;
  self->receive([&](caf::down_msg&) { down = true; }, caf::after(5s) >> [] {});
  CHECK(down);
}
