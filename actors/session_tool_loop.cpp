// SPEC 9's tool loop inside a session (ADR-0013): the model's calls of
// gateway tools are checked, run at their configured endpoints (or paused
// for a person's approval), and their answers go back to the model.
#include <nlohmann/json.hpp>

#include "actors/session_state.hpp"
#include "actors/upstream_event_sink.hpp"
#include "core/log.hpp"
#include "metrics/gateway_metrics.hpp"

namespace sb::actors::session {

using providers::failure_kind;

// A paused loop to store, asked of the detached actor that stores it.
using store_atom = caf::atom_constant<caf::atom("cstore")>;

namespace {

// --- the tool loop (SPEC 9, ADR-0013) -------------------------------------

void process_next_call(self_ptr self);

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(wall_clock::now().time_since_epoch()).count();
}

bool is_offered(const session_state& st, const std::string& name) {
  auto& names = st.job.tools->names;
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// The tool's answer (or what went wrong) goes back to the model.
void add_tool_message(session_state& st, const std::string& tool_call_id, std::string content) {
  st.job.body.edit()["messages"].push_back({{"role", "tool"}, {"tool_call_id", tool_call_id}, {"content", std::move(content)}});
}

std::string tool_error(const std::string& code, const std::string& message,
                       const nlohmann::json& details = nullptr) {
  nlohmann::json e = {{"error", {{"code", code}, {"message", message}}}};
  if (!details.is_null()) e["error"]["details"] = details;
  return e.dump();
}

nlohmann::json errors_json(const std::vector<tools::validation_error>& errors) {
  auto a = nlohmann::json::array();
  for (auto& e : errors)
    a.push_back({{"path", e.instance_path}, {"keyword", e.keyword}, {"message", e.message}});
  return a;
}

/// Each round of the loop is a fresh walk of the targets: the cascade's
/// counters start over, attempt numbers go on.
void next_round(self_ptr self) {
  auto& st = self->state;
  st.target_index = 0;
  st.server_retries = 0;
  st.key_walk = 0;
  st.waited = std::chrono::milliseconds{0};
  st.waited_for_actor = std::chrono::milliseconds{0};
  st.attempts = nlohmann::json::array();
  st.cur = attempt{};
  st.loop.round = {};  // nothing of this round reached the client yet: it may fall through
  walk(self);
}

nlohmann::json paused_state(const session_state& st) {
  auto targets = nlohmann::json::array();
  for (auto& t : st.job.targets) targets.push_back({{"provider", t.provider}, {"model", t.model}});
  auto headers = nlohmann::json::array();
  for (auto& [k, v] : st.job.extra_headers)
    if (k != "x-gateway-quota-remaining-tokens") headers.push_back({k, v});
  return {{"request_id", st.job.request_id},
          {"user", st.job.user},
          {"body", st.job.body.tree()},
          {"targets", targets},
          {"answered_by", st.target_index},
          {"extra_headers", headers},
          {"prompt_id", st.job.prompt_id},
          {"prompt_version", st.job.prompt_version},
          {"gateway_tools", st.job.tools->names},
          {"completion", st.loop.completion},
          {"calls", st.loop.calls},
          {"next", st.loop.next},
          {"rounds", st.loop.rounds},
          {"attempts_made", st.attempts_made}};
}

/// The paused loop is stored: the client is asked for a decision.
void answer_paused(self_ptr self, const paused_loop& p) {
  auto& st = self->state;
  log::info("tool loop: request " + st.job.request_id + " paused before sensitive tool '" + p.tool +
            "' (workspace " + p.workspace + ", confirmation " + p.id + ")");
  nlohmann::json gateway = {{"pending_confirmation", {{"id", p.id},
                                                      {"tool", p.tool},
                                                      {"tool_call_id", p.tool_call_id},
                                                      {"arguments", p.arguments},
                                                      {"expires_at", p.expires_ms / 1000}}},
                             {"tool_rounds", st.loop.rounds}};
  if (st.job.stream) {
    // The stream ends here; the decision's answer comes back on the POST (ADR-0013).
    std::vector<providers::relay_chunk> last;
    last.push_back(providers::built_chunk(pause_chunk(st, gateway)));
    if (relay_chunks(self, last)) close_stream(self);
    return;
  }
  auto completion = st.loop.completion;
  if (auto c = completion.find("choices"); c != completion.end() && c->is_array() && !c->empty())
    (*c)[0]["finish_reason"] = "tool_calls";
  completion["gateway"] = std::move(gateway);
  st.answered = true;
  st.out->respond(200, response_headers(st, "application/json"), completion.dump());
  self->quit();
}

void store_unavailable(self_ptr self) {
  answer_error(self, {503, "server_error", "confirmation_store_unavailable",
                      "A sensitive tool needs approval, but the paused call could not be "
                      "stored. Retry shortly.", std::nullopt});
}

/// A sensitive call: the loop is stored and the client asked for a decision.
/// The store may be Redis, a blocking call: a detached one-shot actor makes
/// it, so that the session's I/O thread (ADR-0001) never waits on it.
void pause_for_confirmation(self_ptr self, const nlohmann::json& call, nlohmann::json arguments) {
  auto& st = self->state;
  auto& tl = *st.job.tools;
  paused_loop p;
  p.id = new_confirmation_id();
  p.workspace = st.job.workspace;
  p.tool = call["function"].value("name", "");
  p.tool_call_id = call.value("id", "");
  p.arguments = std::move(arguments);
  p.created_ms = wall_ms();
  p.expires_ms = p.created_ms + tl.confirmation_ttl.count();
  p.state = paused_state(st);
  if (!tl.confirmations) return store_unavailable(self);
  auto store = tl.confirmations;
  auto writer = self->spawn<caf::detached>([store, p](caf::event_based_actor* w) -> caf::behavior {
    return {[=](store_atom) {
      w->quit();
      return store->put(p);
    }};
  });
  self->request(writer, std::chrono::seconds(10), store_atom::value)
      .then([self, p](bool stored) { stored ? answer_paused(self, p) : store_unavailable(self); },
            [self](caf::error&) { store_unavailable(self); });
}

/// The audit record of a sensitive call, as the ledger keeps it (issue 8).
void record_audit(session_state& st, const cluster::tool_audit_record& rec) {
  if (st.ctx->ledger) caf::anon_send(st.ctx->ledger, audit_atom::value, rec);
}

/// `outcome`: "ok" or the tool error's code, for the audit of an approved call.
void on_tool_done(self_ptr self, const std::string& content, const char* outcome = cluster::outcome_ok) {
  auto& st = self->state;
  if (auto& audit = st.loop.audit) {
    audit->outcome = outcome;
    audit->outcome_at_ms = wall_ms();
    record_audit(st, *audit);
    audit.reset();
  }
  auto& call = st.loop.calls[st.loop.next];
  add_tool_message(st, call.value("id", ""), content);
  st.loop.call.reset();
  st.loop.def = nullptr;
  ++st.loop.next;
  process_next_call(self);
}

/// The endpoint's answer, checked against output_schema.
void finish_tool_call(self_ptr self) {
  auto& st = self->state;
  auto& def = *st.loop.def;
  if (st.loop.too_big)
    return on_tool_done(self, tool_error("tool_failed", "The tool's answer exceeded " +
                                                            std::to_string(max_tool_answer_bytes) + " bytes."),
                        "tool_failed");
  if (st.loop.status / 100 != 2)
    return on_tool_done(self, tool_error("tool_failed", "The tool answered HTTP " + std::to_string(st.loop.status) + "."),
                        "tool_failed");
  auto answer = nlohmann::json::parse(st.loop.body, nullptr, false);
  if (answer.is_discarded())
    return on_tool_done(self, tool_error("invalid_tool_output", "The tool's answer is not JSON."),
                        "invalid_tool_output");
  if (def.output) {
    auto errors = def.output->validate(answer);
    if (!errors.empty()) {
      log::warn("tool loop: request " + st.job.request_id + ": tool '" + def.name +
                "' answered outside its output_schema");
      return on_tool_done(self, tool_error("invalid_tool_output",
                                           "The tool's answer does not match its output_schema.",
                                           errors_json(errors)),
                          "invalid_tool_output");
    }
  }
  on_tool_done(self, answer.dump());
}


/// POSTs the validated arguments to the tool's configured endpoint.
void start_tool_call(self_ptr self, const tools::tool_definition& def, const nlohmann::json& arguments) {
  auto& st = self->state;
  net::upstream_request req;
  req.url = def.endpoint;  // only ever the configured URL
  req.method = "POST";
  req.headers = {{"content-type", "application/json"}, {"accept", "application/json"},
                 {"x-request-id", st.job.request_id}};
  req.body = arguments.dump();
  req.timeouts = {std::min(def.timeout, st.ctx->config->timeouts.connect), def.timeout, def.timeout};
  st.loop.def = &def;
  st.loop.status = 0;
  st.loop.body.clear();
  st.loop.too_big = false;
  st.loop.call_id = st.next_call_id++;
  ++st.loop.tools_run;
  // Pieces, not whole: an answer past max_tool_answer_bytes is cut as it grows.
  auto h = upstream_event_sink(caf::actor_cast<caf::actor>(self), st.loop.call_id,
                               upstream_delivery::pieces);
  st.loop.call = st.ctx->upstream->start(std::move(req), std::move(h));
}

cluster::tool_audit_record audit_record(const session_state& st, const tool_approval& a, const std::string& tool,
                                        const nlohmann::json& arguments) {
  cluster::tool_audit_record r;
  r.confirmation_id = a.confirmation_id;
  r.workspace_id = st.job.workspace;
  r.request_id = st.job.request_id;
  r.tool = tool;
  r.tool_call_id = a.tool_call_id;
  r.arguments = arguments.dump();
  r.approver = a.approver;
  r.decision = a.approve ? cluster::tool_decision::approved : cluster::tool_decision::refused;
  r.requested_at_ms = a.requested_ms;
  r.decided_at_ms = a.decided_ms;
  r.outcome = a.approve ? cluster::outcome_running : cluster::outcome_not_run;
  r.outcome_at_ms = wall_ms();
  return r;
}

/// An approved sensitive call runs only once its approval is on record:
/// a store that cannot take the record means the call does not run.
void audit_then_run(self_ptr self, cluster::tool_audit_record rec, const tools::tool_definition& def,
                    nlohmann::json arguments) {
  auto& st = self->state;
  if (!st.ctx->ledger) {  // a gateway without a ledger (unit wiring): the log line is the record
    st.loop.audit = std::move(rec);
    return start_tool_call(self, def, arguments);
  }
  auto not_recorded = [self](const std::string& why) {
    auto& st = self->state;
    log::error("tool loop: request " + st.job.request_id + ": approved sensitive tool not run, its "
               "approval could not be recorded: " + why);
    auto& call = st.loop.calls[st.loop.next];
    add_tool_message(st, call.value("id", ""),
                     tool_error("tool_failed", "The approved call could not be recorded, so it was not run."));
    ++st.loop.next;
    process_next_call(self);
  };
  self->request(st.ctx->ledger, std::chrono::seconds(10), audit_atom::value, rec)
      .then(
          [self, rec, def = &def, arguments, not_recorded](tool_audit_reply& r) {
            if (r.error) return not_recorded(r.error->to_string());
            self->state.loop.audit = rec;
            start_tool_call(self, *def, arguments);
          },
          [self, not_recorded](caf::error& e) { not_recorded(self->system().render(e)); });
}

/// Handles the round's calls in order: validate, maybe pause, run; then the
/// next round.
void process_next_call(self_ptr self) {
  auto& st = self->state;
  auto& tl = *st.job.tools;
  while (st.loop.next < st.loop.calls.size()) {
    auto& call = st.loop.calls[st.loop.next];
    auto call_id = call.value("id", "");
    auto fn = call.value("function", nlohmann::json::object());
    auto name = fn.value("name", "");
    const tools::tool_definition* def = tl.registry ? tl.registry->find(name) : nullptr;
    if (!def) {  // removed by a reload while the loop was paused
      add_tool_message(st, call_id, tool_error("unknown_tool", "The tool '" + name + "' is not configured."));
      ++st.loop.next;
      continue;
    }
    nlohmann::json arguments;
    auto a = fn.find("arguments");
    if (a != fn.end() && a->is_string()) {
      auto& text = a->get_ref<const std::string&>();
      arguments = text.empty() ? nlohmann::json::object() : nlohmann::json::parse(text, nullptr, false);
    } else if (a != fn.end() && a->is_object()) {
      arguments = *a;
    } else {
      arguments = nlohmann::json::object();
    }
    if (arguments.is_discarded()) {
      add_tool_message(st, call_id, tool_error("invalid_arguments", "The arguments are not valid JSON."));
      ++st.loop.next;
      continue;
    }
    auto errors = def->input.validate(arguments);
    if (!errors.empty()) {
      // Never reaches the endpoint: the model hears what was wrong.
      add_tool_message(st, call_id, tool_error("invalid_arguments",
                                               "The arguments do not match the tool's input_schema.",
                                               errors_json(errors)));
      ++st.loop.next;
      continue;
    }
    if (def->sensitive) {
      auto& ap = tl.approval;
      if (!ap || ap->tool_call_id != call_id) return pause_for_confirmation(self, call, std::move(arguments));
      auto approval = *ap;
      ap.reset();
      auto rec = audit_record(st, approval, name, arguments);
      if (!approval.approve) {
        log::info("tool loop: sensitive tool '" + name + "' REFUSED by '" + approval.approver +
                  "' (workspace " + st.job.workspace + ", request " + st.job.request_id +
                  ", confirmation " + approval.confirmation_id + ")");
        record_audit(st, rec);
        add_tool_message(st, call_id, tool_error("refused",
                                                 "A person refused to run this tool call; do not retry it."));
        ++st.loop.next;
        continue;
      }
      log::info("tool loop: sensitive tool '" + name + "' approved by '" + approval.approver +
                "' and run (workspace " + st.job.workspace + ", request " + st.job.request_id +
                ", confirmation " + approval.confirmation_id + ", arguments " + arguments.dump() + ")");
      return audit_then_run(self, std::move(rec), *def, std::move(arguments));
    }
    return start_tool_call(self, *def, arguments);
  }
  next_round(self);
}

}  // namespace

void on_tool_event(self_ptr self, upstream_event& ev) {
  auto& st = self->state;
  switch (ev.what) {
    case upstream_event::kind::head:
    case upstream_event::kind::whole:
      st.loop.status = ev.head.status;
      if (ev.what == upstream_event::kind::whole) {
        st.loop.body = std::move(ev.data);
        return finish_tool_call(self);
      }
      if (ev.data.empty()) return;
      [[fallthrough]];
    case upstream_event::kind::data:
      if (st.loop.body.size() + ev.data.size() > max_tool_answer_bytes) {
        st.loop.too_big = true;
        st.loop.call->cancel();
        return finish_tool_call(self);
      }
      st.loop.body += ev.data;
      return;
    case upstream_event::kind::end:
      return finish_tool_call(self);
    case upstream_event::kind::error: {
      bool timeout = ev.error == net::upstream_error::timeout_connect ||
                     ev.error == net::upstream_error::timeout_first_byte ||
                     ev.error == net::upstream_error::timeout_total;
      // The endpoint URL is not echoed: it may carry credentials.
      return on_tool_done(self, timeout ? tool_error("tool_timeout", "The tool did not answer within " +
                                                                          std::to_string(st.loop.def->timeout.count()) + " ms.")
                                        : tool_error("tool_failed", std::string("The tool could not be reached (") +
                                                                        net::to_string(ev.error) + ")."),
                          timeout ? "tool_timeout" : "tool_failed");
    }
  }
}

/// The model answered in a loop request. true: the loop goes on (a tool runs,
/// the loop pauses or the next round starts); false: `completion` is the answer.
bool continue_tool_loop(self_ptr self, nlohmann::json& completion) {
  auto& st = self->state;
  ++st.loop.rounds;
  auto c = completion.find("choices");
  if (c == completion.end() || !c->is_array() || c->empty()) return false;
  auto& choice = (*c)[0];
  auto m = choice.find("message");
  if (m == choice.end() || !m->is_object()) return false;
  auto calls = m->find("tool_calls");
  if (calls == m->end() || !calls->is_array() || calls->empty()) return false;
  for (auto& call : *calls) {
    // A client-defined tool ends the loop: the client runs its own tools.
    if (!call.is_object() || !call.contains("function") ||
        !is_offered(st, call["function"].value("name", "")))
      return false;
  }
  if (st.loop.rounds >= max_tool_rounds) {
    log::warn("tool loop: request " + st.job.request_id + " stopped after " +
              std::to_string(max_tool_rounds) + " rounds");
    choice["finish_reason"] = "length";
    completion["gateway"]["tool_loop_stopped"] = "max_rounds";
    return false;
  }
  st.loop.completion = completion;
  auto assistant = *m;
  assistant["role"] = "assistant";
  if (!assistant.contains("content")) assistant["content"] = nullptr;
  st.job.body.edit()["messages"].push_back(std::move(assistant));
  st.loop.calls = *calls;
  st.loop.next = 0;
  process_next_call(self);
  return true;
}

/// A session resuming a paused loop: the decision is applied to the pending
/// call, then the loop goes on.
void resume_tool_loop(self_ptr self) {
  auto& st = self->state;
  auto& s = *st.job.tools->resume_state;
  st.loop.completion = s.value("completion", nlohmann::json::object());
  st.loop.calls = s.value("calls", nlohmann::json::array());
  st.loop.next = s.value("next", std::size_t{0});
  st.loop.rounds = s.value("rounds", 0);
  st.target_index = std::min<std::size_t>(s.value("answered_by", std::size_t{0}),
                                          st.job.targets.empty() ? 0 : st.job.targets.size() - 1);
  process_next_call(self);
}

}  // namespace sb::actors::session
