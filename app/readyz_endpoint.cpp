// GET /readyz: ready when the stores answer (the ledger's database, the
// quota store: Redis in cluster mode). Asked by a one-shot actor, so the I/O
// thread never waits.

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/metering_messages.hpp"
#include "app/endpoint_actor.hpp"
#include "app/routes.hpp"

namespace sb {
namespace {

struct readyz_state {
  int waiting = 2;
  nlohmann::json stores = nlohmann::json::object();
  bool ready = true;
};

}  // namespace

void handle_readyz(const app_context& app, std::shared_ptr<net::responder> out) {
  auto ledger = app.gateway->ledger;
  auto quota = app.gateway->quota;
  app.system->spawn([ledger, quota, out](caf::stateful_actor<readyz_state>* self) -> caf::behavior {
    auto done = [=](const char* name, const actors::store_health* h, const std::string& failure) {
      auto& st = self->state;
      bool ok = h && !h->error;
      st.stores[name] = {{"ready", ok},
                         {"backend", h ? nlohmann::json(h->backend) : nlohmann::json()},
                         {"error", ok ? nlohmann::json() : nlohmann::json(h && h->error ? h->error->to_string() : failure)}};
      st.ready = st.ready && ok;
      if (--st.waiting > 0) return;
      respond_json(*out, st.ready ? 200 : 503,
                   nlohmann::json{{"status", st.ready ? "ready" : "not_ready"}, {"stores", st.stores}}.dump());
      self->quit();
    };
    auto ask = [=](auto handle, const char* name) {
      self->request(handle, std::chrono::seconds(2), actors::health_atom::value)
          .then([=](actors::store_health& h) { done(name, &h, {}); },
                [=](caf::error& e) { done(name, nullptr, self->system().render(e)); });
    };
    ask(ledger, "ledger");
    ask(quota, "quota");
    return keep_alive_until_answered();
  });
}

}  // namespace sb
