// GET /admin/keys: every key's state, gathered from the provider actors
// without blocking an I/O thread: a one-shot actor asks them all and answers.

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/messages.hpp"
#include "app/endpoint_actor.hpp"
#include "app/routes.hpp"

namespace sb {
namespace {

std::string iso8601(actors::wall_clock::time_point t) {
  auto secs = actors::wall_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json to_json(const actors::key_snapshot& k) {
  auto opt = [](std::int64_t v) { return v < 0 ? nlohmann::json() : nlohmann::json(v); };
  return {{"id", k.id},
          {"provider", k.provider},
          {"state", actors::to_string(k.state)},
          {"cooldown_until", k.state == actors::key_status::cooling ? nlohmann::json(iso8601(k.cooldown_until))
                                                                    : nlohmann::json()},
          {"last_status", k.last_status == 0 ? nlohmann::json() : nlohmann::json(k.last_status)},
          {"remaining_requests", opt(k.remaining_requests)},
          {"remaining_tokens", opt(k.remaining_tokens)}};
}

struct gather_state {
  std::size_t waiting = 0;
  std::map<std::string, std::vector<actors::key_snapshot>> by_provider;
};

}  // namespace

void handle_admin_keys(const app_context& app, net::http_request&, std::shared_ptr<net::responder> out) {
  auto providers = app.gateway->directory->all();
  auto order = app.gateway->config->chain;
  app.system->spawn([providers, order, out](caf::stateful_actor<gather_state>* self) -> caf::behavior {
    auto reply = [=] {
      nlohmann::json keys = nlohmann::json::array();
      for (auto& id : order) {
        auto i = self->state.by_provider.find(id);
        if (i == self->state.by_provider.end()) continue;
        for (auto& k : i->second) keys.push_back(to_json(k));
      }
      respond_json(*out, 200, keys.dump());
      self->quit();
    };
    self->state.waiting = providers.size();
    if (providers.empty()) {
      reply();
      return {};
    }
    for (auto& [id, handle] : providers) {
      auto pid = id;
      self->request(handle, std::chrono::seconds(2), actors::snapshot_atom::value)
          .then(
              [=](std::vector<actors::key_snapshot>& keys) {
                self->state.by_provider[pid] = std::move(keys);
                if (--self->state.waiting == 0) reply();
              },
              [=](caf::error&) {
                if (--self->state.waiting == 0) reply();
              });
    }
    return keep_alive_until_answered();
  });
}

}  // namespace sb
