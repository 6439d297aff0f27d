// SPEC 7, the reading side of conversations:
//   GET /v1/conversations/{id}                              the log
//   GET /v1/conversations/{id}/messages/{message_id}/stream reattach (SSE)
// A workspace token reads only its own workspace's conversations: another
// workspace's id is a 404, like an unknown one.

#include <mutex>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/conversation_messages.hpp"
#include "actors/journal_tail_actor.hpp"
#include "app/conversation_endpoint.hpp"
#include "app/endpoint_actor.hpp"
#include "app/routes.hpp"
#include "net/sse.hpp"

namespace sb {

std::variant<std::string, api_error> conversation_workspace(const app_context& app,
                                                            net::http_request& req) {
  auto who = authenticate(*app.gateway->config, req.header("authorization"));
  if (auto* e = std::get_if<api_error>(&who)) return *e;
  return std::get<const workspace_config*>(who)->id;
}

api_error conversation_store_failure(const cluster::store_error& e) {
  if (e.code == cluster::store_errc::bad_input) return invalid_request(e.message);
  return {503, "server_error", "store_unavailable",
          "The conversation store cannot be read now: " + e.message, std::nullopt};
}

api_error conversation_not_found(const std::string& id) {
  return {404, "invalid_request_error", "conversation_not_found",
          "No conversation '" + id + "' in this workspace.", std::nullopt};
}

api_error message_not_found(const std::string& conversation_id, const std::string& message_id) {
  return {404, "invalid_request_error", "message_not_found",
          "No assistant message '" + message_id + "' in conversation '" + conversation_id + "'.",
          std::nullopt};
}

namespace {

nlohmann::json message_json(const cluster::stored_message& m) {
  auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
  return {{"id", m.message_id},
          {"role", cluster::to_string(m.role)},
          {"content", m.content},
          {"status", cluster::to_string(m.status)},
          {"provider", or_null(m.origin.provider)},
          {"model", or_null(m.origin.model)}};
}

/// Last-Event-ID "<message_id>:<seq>" -> seq; 0 without the header.
std::variant<std::uint64_t, api_error> last_seq(net::http_request& req, const std::string& message_id) {
  auto h = req.header("last-event-id");
  if (!h || h->empty()) return std::uint64_t{0};
  auto bad = invalid_request("Last-Event-ID must be \"" + message_id + ":<seq>\", an id this stream sent.",
                             "Last-Event-ID");
  std::string v(*h);
  auto colon = v.rfind(':');
  if (colon == std::string::npos || v.substr(0, colon) != message_id || colon + 1 == v.size()) return bad;
  std::uint64_t seq = 0;
  for (auto i = colon + 1; i < v.size(); ++i) {
    if (v[i] < '0' || v[i] > '9' || seq > (UINT64_MAX - 9) / 10) return bad;
    seq = seq * 10 + static_cast<std::uint64_t>(v[i] - '0');
  }
  return seq;
}

}  // namespace

void handle_conversation_get(const app_context& app, net::http_request& req,
                             std::shared_ptr<net::responder> out, const std::string& conversation_id) {
  auto ws = conversation_workspace(app, req);
  if (auto* e = std::get_if<api_error>(&ws)) return respond_error(*out, *e);
  auto workspace = std::get<std::string>(ws);
  if (auto bad = cluster::check_conversation_id(workspace, conversation_id))
    return respond_error(*out, invalid_request(bad->message));
  auto conversations = app.gateway->conversations;
  app.system->spawn([=](caf::event_based_actor* self) -> caf::behavior {
    self->request(conversations, std::chrono::seconds(10), actors::conv_get_atom::value, workspace,
                  conversation_id)
        .then(
            [=](actors::conversation_reply& r) {
              if (r.error) {
                respond_error(*out, conversation_store_failure(*r.error));
              } else if (!r.conversation) {
                respond_error(*out, conversation_not_found(conversation_id));
              } else {
                nlohmann::json messages = nlohmann::json::array();
                for (auto& m : r.conversation->messages) messages.push_back(message_json(m));
                respond_json(*out, 200,
                             nlohmann::json{{"id", conversation_id}, {"messages", std::move(messages)}}.dump());
              }
              self->quit();
            },
            [=](caf::error& e) {
              respond_error(*out, conversation_store_failure(
                                      {cluster::store_errc::unavailable, self->system().render(e)}));
              self->quit();
            });
    return keep_alive_until_answered();
  });
}

void handle_message_stream(const app_context& app, net::http_request& req,
                           std::shared_ptr<net::responder> out, const std::string& conversation_id,
                           const std::string& message_id) {
  auto ws = conversation_workspace(app, req);
  if (auto* e = std::get_if<api_error>(&ws)) return respond_error(*out, *e);
  cluster::message_key key{std::get<std::string>(ws), conversation_id, message_id};
  if (auto bad = cluster::check_message_key(key)) return respond_error(*out, invalid_request(bad->message));
  auto after = last_seq(req, message_id);
  if (auto* e = std::get_if<api_error>(&after)) return respond_error(*out, *e);
  auto after_seq = std::get<std::uint64_t>(after);

  // The client may leave before the tail exists: whoever comes second stops it.
  struct holder {
    std::mutex mutex;
    caf::actor_addr tail;  // weak: the tail's sink holds the responder, which holds this
    bool gone = false;
  };
  auto h = std::make_shared<holder>();
  out->on_client_gone([h] {
    std::lock_guard lock(h->mutex);
    h->gone = true;
    if (h->tail) caf::anon_send_exit(h->tail, caf::exit_reason::user_shutdown);
  });

  auto conversations = app.gateway->conversations;
  auto journals = app.journals;
  auto* sys = app.system;
  sys->spawn([=](caf::event_based_actor* self) -> caf::behavior {
    self->request(conversations, std::chrono::seconds(10), actors::conv_message_atom::value, key)
        .then(
            [=](actors::message_reply& r) {
              if (r.error) {
                respond_error(*out, conversation_store_failure(*r.error));
                return self->quit();
              }
              if (!r.message || r.message->role != cluster::message_role::assistant) {
                respond_error(*out, message_not_found(conversation_id, message_id));
                return self->quit();
              }
              // The sink runs on the tail's thread only.
              auto started = std::make_shared<bool>(false);
              auto start = [out, started, message_id] {
                if (*started) return;
                *started = true;
                out->start_stream(200, {{"content-type", "text/event-stream"},
                                        {"cache-control", "no-cache"},
                                        {"x-gateway-message-id", message_id}});
              };
              actors::journal_sink sink;
              sink.deliver = [out, start, message_id](std::vector<cluster::journal_event> events) {
                start();
                std::string frames;
                for (auto& e : events)
                  net::append_sse_frame(frames, message_id, e.seq, e.data);
                out->write(std::move(frames));
              };
              sink.done = [out, started, start, conversation_id, message_id](actors::journal_tail_result r) {
                auto end_with_error = [&](const api_error& e) {
                  if (!*started) return out->respond(e.status, {{"content-type", "application/json"}}, e.to_body());
                  out->write(net::sse_named_frame("", "error", e.to_body()));
                  out->finish();
                };
                switch (r.how) {
                  case actors::journal_tail_end::finished:
                    start();
                    if (r.status == cluster::message_status::complete) {
                      out->write("data: [DONE]\n\n");
                      out->finish();
                    } else {
                      end_with_error({502, "server_error", "stream_incomplete",
                                      "The reply stopped before its end (status partial): resume it with "
                                      "POST …/messages/" + message_id + "/resume.",
                                      std::nullopt});
                    }
                    return;
                  case actors::journal_tail_end::unknown:
                    return end_with_error({404, "invalid_request_error", "stream_not_found",
                                           "Message '" + message_id + "' is not streaming and its events "
                                           "are no longer kept: read it with GET /v1/conversations/" +
                                               conversation_id + ".",
                                           std::nullopt});
                  case actors::journal_tail_end::truncated:
                    return end_with_error({409, "invalid_request_error", "stream_truncated",
                                           "Events after Last-Event-ID are no longer kept: read the message "
                                           "with GET /v1/conversations/" + conversation_id + ".",
                                           std::nullopt});
                  case actors::journal_tail_end::failed:
                    return end_with_error({503, "server_error", "journal_unavailable",
                                           "The stream journal cannot be read now: " + r.error, std::nullopt});
                }
              };
              sink.backlog_bytes = [out] { return out->pending_bytes(); };
              auto tail = actors::spawn_journal_tail(*sys, journals, message_id, after_seq, std::move(sink));
              {
                std::lock_guard lock(h->mutex);
                if (h->gone) caf::anon_send_exit(tail, caf::exit_reason::user_shutdown);
                else h->tail = tail.address();
              }
              self->quit();
            },
            [=](caf::error& e) {
              respond_error(*out, conversation_store_failure(
                                      {cluster::store_errc::unavailable, self->system().render(e)}));
              self->quit();
            });
    return keep_alive_until_answered();
  });
}

}  // namespace sb
