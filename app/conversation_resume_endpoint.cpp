// POST /v1/conversations/{id}/messages/{message_id}/resume (SPEC 7): a
// `partial` assistant message is continued through the cascade and the
// continuation appended to the same message until it is complete. The
// answer is SSE: the stored text first (one chunk), then the continuation.
//
// Body (optional JSON object): `model` (default: the provider/model that
// wrote the partial text, falling through the cascade as usual),
// `max_tokens`, `temperature`, `stream_options`. The context sent upstream
// is what the conversation log holds before the message (its user messages
// and replies), then the partial reply: as an assistant prefill for
// Anthropic, with an instruction to continue for the others (session).

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/conversation_messages.hpp"
#include "actors/session_actor.hpp"
#include "app/conversation_endpoint.hpp"
#include "app/endpoint_actor.hpp"
#include "app/routes.hpp"
#include "core/request_id.hpp"
#include "core/target.hpp"
#include "core/token_estimate.hpp"

namespace sb {
namespace {

/// The journal's last event seq for the message (0 when none is kept): the
/// resume's events number on from it, so a reattach sees one sequence.
std::uint64_t journal_last_seq(const cluster::stream_journal_factory& journals, const std::string& id) {
  if (!journals) return 0;
  auto journal = journals();
  std::uint64_t last = 0;
  for (int rounds = 0; rounds < 1000; ++rounds) {
    auto r = journal->read_after(id, last, 4096);
    if (!r || r.value().events.empty()) break;
    last = r.value().events.back().seq;
  }
  return last;
}

}  // namespace

void handle_message_resume(const app_context& app, net::http_request& req,
                           std::shared_ptr<net::responder> out, const std::string& conversation_id,
                           const std::string& message_id) {
  auto request_id = new_request_id();
  const auto& cfg = *app.gateway->config;
  auto who = authenticate(cfg, req.header("authorization"));
  if (auto* e = std::get_if<api_error>(&who)) return respond_error(*out, *e, request_id);
  const auto* workspace = std::get<const workspace_config*>(who);
  cluster::message_key key{workspace->id, conversation_id, message_id};
  if (auto bad = cluster::check_message_key(key))
    return respond_error(*out, invalid_request(bad->message), request_id);

  auto options = nlohmann::json::object();
  if (!req.body.empty()) {
    options = nlohmann::json::parse(req.body, nullptr, false);
    if (options.is_discarded() || !options.is_object())
      return respond_error(*out, invalid_request("The body, when present, must be a JSON object."), request_id);
  }
  if (auto m = options.find("model"); m != options.end() && (!m->is_string() || m->get_ref<const std::string&>().empty()))
    return respond_error(*out, invalid_request("`model` must be a non-empty string.", "model"), request_id);
  if (cfg.providers.empty()) return respond_error(*out, no_providers_configured(), request_id);

  std::optional<std::int64_t> token_cap = cfg.token_cap_for(*workspace);
  std::optional<std::int64_t> cost_cap;
  if (workspace->monthly_cost_cap_usd)
    cost_cap = static_cast<std::int64_t>(*workspace->monthly_cost_cap_usd * 1e6);
  std::string user = "anonymous";
  if (auto u = req.header("x-user-id"); u && !u->empty()) user = std::string(*u);

  auto conversations = app.gateway->conversations;
  auto journals = app.journals;
  auto gateway = app.gateway;
  auto* sys = app.system;
  auto ws = workspace->id;
  // Detached: finding the journal's last seq blocks on Redis in cluster mode.
  sys->spawn<caf::detached>([=](caf::event_based_actor* self) -> caf::behavior {
    self->request(conversations, std::chrono::seconds(10), actors::conv_get_atom::value, ws, conversation_id)
        .then(
            [=](actors::conversation_reply& r) {
              auto fail = [&](const api_error& e) {
                respond_error(*out, e, request_id);
                self->quit();
              };
              if (r.error) return fail(conversation_store_failure(*r.error));
              if (!r.conversation) return fail(conversation_not_found(conversation_id));
              auto& all = r.conversation->messages;
              auto it = std::find_if(all.begin(), all.end(),
                                     [&](auto& m) { return m.message_id == message_id; });
              if (it == all.end() || it->role != cluster::message_role::assistant)
                return fail(message_not_found(conversation_id, message_id));
              if (it->status != cluster::message_status::partial)
                return fail({409, "invalid_request_error", "message_not_partial",
                             "Message '" + message_id + "' is " + cluster::to_string(it->status) +
                                 ": only a partial message can be resumed.",
                             std::nullopt});

              nlohmann::json messages = nlohmann::json::array();
              for (auto m = all.begin(); m != it; ++m)
                if (!m->content.empty())
                  messages.push_back({{"role", cluster::to_string(m->role)}, {"content", m->content}});
              std::string model = options.value("model", std::string());
              if (model.empty())
                model = it->origin.provider.empty() ? std::string("auto")
                                                    : it->origin.provider + "/" + it->origin.model;
              auto selected = select_targets(*gateway->config, model, true);
              if (auto* e = std::get_if<api_error>(&selected)) return fail(*e);

              actors::chat_job job;
              job.request_id = request_id;
              nlohmann::json body = {{"model", model}, {"messages", std::move(messages)}, {"stream", true}};
              for (const char* k : {"max_tokens", "max_completion_tokens", "temperature", "stream_options"})
                if (auto v = options.find(k); v != options.end()) body[k] = *v;
              job.stream = true;
              if (auto so = body.find("stream_options"); so != body.end() && so->is_object())
                job.include_usage = so->value("include_usage", false);
              job.targets = std::move(std::get<std::vector<target>>(selected));
              job.workspace = ws;
              job.user = user;
              job.caps.tokens = token_cap;
              job.caps.cost_micros = cost_cap;
              job.prompt_estimate = estimate_prompt_tokens(body) + estimate_tokens_from_chars(
                                                                      static_cast<std::int64_t>(it->content.size()));
              std::int64_t budget = gateway->config->quota.default_reservation_tokens;
              for (const char* k : {"max_completion_tokens", "max_tokens"})
                if (auto v = body.find(k); v != body.end() && v->is_number_integer()) budget = v->get<std::int64_t>();
              job.reservation.tokens = job.prompt_estimate + budget;
              auto& first = job.targets.front();
              job.reservation.cost_micros =
                  gateway->prices.cost(first.provider, first.model, job.prompt_estimate, budget).micros;
              job.body = chat_body(std::move(body));
              job.conversation_id = conversation_id;
              job.resume = actors::chat_job::resume_from{message_id, it->content,
                                                         journal_last_seq(journals, message_id)};
              actors::spawn_session(*sys, gateway, std::move(job), out);
              self->quit();
            },
            [=](caf::error& e) {
              respond_error(*out,
                            conversation_store_failure({cluster::store_errc::unavailable, self->system().render(e)}),
                            request_id);
              self->quit();
            });
    return keep_alive_until_answered();
  });
}

}  // namespace sb
