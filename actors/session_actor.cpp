#include "actors/session_actor.hpp"

#include <random>

#include "cluster/billing_period.hpp"
#include "core/api_error.hpp"
#include "core/log.hpp"
#include "core/token_estimate.hpp"
#include "metrics/gateway_metrics.hpp"
#include "net/sse.hpp"
#include "net/upstream_client.hpp"

namespace sb::actors {
namespace {

using providers::failure;
using providers::failure_kind;

const char* outcome_name(failure_kind k) {
  switch (k) {
    case failure_kind::rate_limited: return "rate_limited";
    case failure_kind::out_of_credit: return "out_of_credit";
    case failure_kind::server_error: return "server_error";
    case failure_kind::auth_invalid: return "auth_invalid";
    case failure_kind::target_unavailable: return "target_unavailable";
    case failure_kind::client_error: return "client_error";
  }
  return "server_error";
}

// How long a session waits for a provider actor the supervisor is (re)starting.
constexpr std::chrono::milliseconds provider_actor_poll{2};
constexpr std::chrono::milliseconds provider_actor_wait{1000};

// The resume grace ended: the detached stream's upstream is cancelled.
using grace_atom = caf::atom_constant<caf::atom("sgrace")>;

/// The attempt in flight: which target, which key, what has come back.
struct attempt {
  std::uint64_t call_id = 0;
  std::shared_ptr<net::upstream_call> call;
  std::size_t slot = 0;
  std::string key_id;
  int number = 0;  // 1-based, the ledger row's `attempt`
  clock::time_point started{};
  std::int64_t streamed_chars = 0;  // content relayed, to estimate a cut-short stream
  int status = 0;
  net::header_list headers;
  std::string body;  // non-stream body, or an error body
  // Streaming, once a 2xx head arrived:
  net::sse_parser sse;
  std::unique_ptr<providers::stream_decoder> decoder;
};

struct session_state {
  std::shared_ptr<const gateway_context> ctx;
  chat_job job;
  std::shared_ptr<net::responder> out;

  std::size_t target_index = 0;
  int server_retries = 0;      // 5xx/network retries spent on the current target
  int key_walk = 0;            // key rotations spent on the current target
  std::chrono::milliseconds waited{0};  // time spent waiting for a ready key
  std::chrono::milliseconds waited_for_actor{0};  // for a provider actor being (re)started
  std::uint64_t wake_generation = 0;    // tells a live timer from a stale one
  std::uint64_t next_call_id = 1;
  int attempts_made = 0;
  nlohmann::json attempts = nlohmann::json::array();  // for all_providers_failed
  attempt cur;

  // Stream relay.
  std::string message_id;
  std::uint64_t seq = 0;  // of the last event sent: ids are <message_id>:1, :2, …
  // SPEC 7: the conversation log and the stream journal.
  bool logging = false;           // X-Conversation-Id and a conversation actor
  bool journaling = false;        // logging a stream: every event to the journal
  cluster::message_key reply_key; // the assistant message
  bool reply_open = false;        // conv_start sent, conv_finish not yet
  bool journal_open = false;      // events journaled, journal_finish not yet
  bool replayed = false;          // resume: the stored text went out first
  bool detached = false;          // the client left; the upstream runs on for the grace
  bool stream_started = false;  // head sent: no fall-through from here on
  std::vector<providers::relay_chunk> held;  // role-only chunks held until real content
  bool answered = false;

  // SPEC 9: the tool loop (ADR-0013), when the job names gateway tools.
  struct tool_round {
    int rounds = 0;                  // model answers so far (across a pause)
    int tools_run = 0;               // endpoint calls made by this session
    nlohmann::json completion;       // the model's last answer (OpenAI shape)
    nlohmann::json calls = nlohmann::json::array();  // this round's tool_calls
    std::size_t next = 0;            // the call being handled
    // The endpoint call in flight.
    std::uint64_t call_id = 0;
    std::shared_ptr<net::upstream_call> call;
    const tools::tool_definition* def = nullptr;
    int status = 0;
    std::string body;
    bool too_big = false;
  } loop;

  // Metering: what the quota reserved, and what the rows billed so far.
  std::optional<cluster::quota_reservation> reservation;
  cluster::quota_amount billed;

  static inline const char* name = "session";

  void end_reply(cluster::message_status status) {
    if (reply_open) caf::anon_send(ctx->conversations, conv_finish_atom::value, reply_key, status);
    if (journal_open) caf::anon_send(ctx->journal, journal_finish_atom::value, message_id, status);
    reply_open = journal_open = false;
  }

  ~session_state() {
    if (!ctx) return;
    struct counted {
      const gateway_context& c;
      ~counted() { --c.live_sessions; }
    } done{*ctx};
    if (stream_started) ctx->metrics->stream_ended();
    // Every way out but a complete answer leaves the logged reply partial
    // (resumable): cancel, failure, slow client, crash.
    end_reply(cluster::message_status::partial);
    // One settle per request, on every way out (success, failure, cancel,
    // crash): the reservation becomes what the rows billed.
    if (reservation) caf::anon_send(ctx->quota, settle_atom::value, *reservation, billed);
    // A session that dies without answering (a bug, an exception) still
    // answers: the client gets a 500 envelope, no other request is harmed.
    if (answered || !out || detached) return;
    if (stream_started) {
      out->write(net::sse_named_frame("", "error",
                                      internal_error("The gateway failed mid-stream.").to_body()));
      out->finish();
    } else {
      auto e = internal_error("The gateway failed while handling this request.");
      out->respond(e.status, {{"content-type", "application/json"},
                              {"x-request-id", job.request_id}}, e.to_body());
    }
  }
};

using self_ptr = caf::stateful_actor<session_state>*;

void walk(self_ptr self);
void await_provider_actor(self_ptr self);

const target& current_target(session_state& st) { return st.job.targets[st.target_index]; }

net::header_list response_headers(const session_state& st, const char* content_type) {
  net::header_list h{{"content-type", content_type}, {"x-request-id", st.job.request_id}};
  if (st.target_index < st.job.targets.size()) {
    auto& t = st.job.targets[st.target_index];
    h.emplace_back("x-gateway-provider", t.provider);
    h.emplace_back("x-gateway-model", t.model);
  }
  h.emplace_back("x-gateway-attempts", std::to_string(st.attempts_made));
  if (st.logging) h.emplace_back("x-gateway-message-id", st.message_id);
  for (auto& kv : st.job.extra_headers) h.push_back(kv);
  return h;
}

void answer_error(self_ptr self, const api_error& e, const nlohmann::json& extra = {}) {
  auto& st = self->state;
  st.answered = true;
  auto h = response_headers(st, "application/json");
  if (e.status != 200) {
    // Provider and model headers name who answered; on a gateway error nobody did.
    h.erase(std::remove_if(h.begin(), h.end(),
                           [](auto& kv) {
                             return kv.first == "x-gateway-provider" ||
                                    kv.first == "x-gateway-model";
                           }),
            h.end());
  }
  st.out->respond(e.status, std::move(h), e.to_body(extra));
  self->quit();
}

// --- moving along the cascade ---------------------------------------------

void next_target(self_ptr self) {
  auto& st = self->state;
  ++st.target_index;
  st.server_retries = 0;
  st.key_walk = 0;
  walk(self);
}

/// Out of credit, no key left: every remaining target of this provider is skipped.
void next_provider(self_ptr self) {
  auto& st = self->state;
  auto provider = current_target(st).provider;
  while (st.target_index < st.job.targets.size() && current_target(st).provider == provider)
    ++st.target_index;
  st.server_retries = 0;
  st.key_walk = 0;
  walk(self);
}

void wake_after(self_ptr self, std::chrono::milliseconds delay) {
  auto gen = ++self->state.wake_generation;
  self->delayed_send(self, delay, wake_atom::value, gen);
}

std::chrono::milliseconds server_backoff(const retry_config& r, int n) {
  // Exponential with "equal jitter": half fixed, half random, so retries of
  // many sessions after one outage do not arrive together.
  auto full = std::min<std::int64_t>(r.backoff_max.count(),
                                     r.backoff_base.count() * (std::int64_t{1} << std::min(n, 20)));
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_int_distribution<std::int64_t> d(0, full / 2);
  return std::chrono::milliseconds(full / 2 + d(rng));
}

void record_attempt(session_state& st, int status, const std::string& error) {
  auto& t = current_target(st);
  st.attempts.push_back({{"provider", t.provider},
                         {"model", t.model},
                         {"key_id", st.cur.key_id.empty() ? nlohmann::json() : nlohmann::json(st.cur.key_id)},
                         {"status", status == 0 ? nlohmann::json() : nlohmann::json(status)},
                         {"error", error}});
}

void report(self_ptr self, int status, bool ok, failure_kind kind) {
  auto& st = self->state;
  auto& t = current_target(st);
  auto handle = st.ctx->directory->find(t.provider);
  if (!handle) return;
  attempt_report r;
  r.slot = st.cur.slot;
  r.status = status;
  r.ok = ok;
  r.kind = kind;
  r.headers = st.cur.headers;
  self->send(*handle, report_atom::value, std::move(r));
}

/// One ledger row for the attempt in flight (SPEC 6): every upstream call,
/// failed ones too. Tokens the provider reported win; a stream cut short
/// without a report is estimated from what was relayed.
void write_row(session_state& st, cluster::usage_status status, const providers::token_usage& u) {
  auto& t = current_target(st);
  cluster::usage_row row;
  row.timestamp_ms = cluster::now_ms();
  row.request_id = st.job.request_id;
  row.user_id = st.job.user;
  row.workspace_id = st.job.workspace;
  row.provider = t.provider;
  row.model = t.model;
  row.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - st.cur.started).count();
  row.status = status;
  row.prompt_id = st.job.prompt_id;
  row.prompt_version = st.job.prompt_version;
  row.attempt = st.cur.number;
  if (u.reported) {
    row.prompt_tokens = u.prompt_tokens;
    row.completion_tokens = u.completion_tokens;
  } else if (st.cur.streamed_chars > 0) {
    row.prompt_tokens = st.job.prompt_estimate;
    row.completion_tokens = estimate_tokens_from_chars(st.cur.streamed_chars);
    row.estimated = true;
  }
  auto cost = st.ctx->prices.cost(t.provider, t.model, row.prompt_tokens, row.completion_tokens);
  row.cost_estimate_usd = cost.usd;
  if (!cost.known && row.total_tokens() > 0) st.ctx->metrics->unpriced_call(t.provider, t.model);
  st.billed.tokens += row.total_tokens();
  st.billed.cost_micros += cost.micros;
  if (row.total_tokens() > 0) {
    st.ctx->metrics->tokens(st.job.workspace, t.provider, t.model, row.prompt_tokens, row.completion_tokens);
    st.ctx->metrics->cost(st.job.workspace, t.provider, cost.usd);
  }
  if (st.ctx->ledger) caf::anon_send(st.ctx->ledger, append_atom::value, std::move(row));
}

providers::token_usage usage_so_far(const attempt& a) {
  return a.decoder ? a.decoder->usage() : providers::token_usage{};
}

/// SPEC section 5's table, applied to one failed attempt.
void on_failure(self_ptr self, const failure& f) {
  auto& st = self->state;
  auto& t = current_target(st);
  st.cur.call.reset();
  st.ctx->metrics->upstream_attempt(t.provider, t.model, st.cur.key_id, outcome_name(f.kind));
  st.ctx->metrics->upstream_latency(
      t.provider, std::chrono::duration<double>(clock::now() - st.cur.started).count());
  report(self, f.status, false, f.kind);
  record_attempt(st, f.status, f.message.empty() ? outcome_name(f.kind) : f.message);
  // What the provider reported of its usage so far is metered (a cut-short
  // stream bills what it generated).
  write_row(st, cluster::usage_status::error, usage_so_far(st.cur));

  if (st.stream_started) {
    // Content has reached the client: a retry would repeat it. The logged
    // reply stays partial (the state's destructor), for a resume.
    st.answered = true;
    if (!st.detached) {
      api_error e{502, "server_error", "upstream_error",
                  "The provider failed mid-stream: " + f.message, std::nullopt};
      st.out->write(net::sse_named_frame("", "error", e.to_body()));
      st.out->finish();
    }
    self->quit();
    return;
  }

  auto& retry = st.ctx->config->retry;
  auto key_budget = [&] {
    auto* p = st.ctx->provider(t.provider);
    return p ? 2 * static_cast<int>(p->config->keys.size()) : 0;
  };
  switch (f.kind) {
    case failure_kind::rate_limited:
    case failure_kind::auth_invalid:
      // Same target, the provider's next ready key; its own budget so that a
      // 429 storm never eats the 5xx retries or leaves healthy keys unused.
      if (++st.key_walk <= key_budget()) return walk(self);
      return next_provider(self);
    case failure_kind::out_of_credit:
      return next_provider(self);
    case failure_kind::server_error:
      if (st.server_retries < retry.server_error_retries) {
        ++st.server_retries;
        return wake_after(self, server_backoff(retry, st.server_retries - 1));
      }
      return next_target(self);
    case failure_kind::target_unavailable:
      return next_target(self);
    case failure_kind::client_error: {
      api_error e{f.status, "invalid_request_error", f.code.empty() ? "upstream_rejected" : f.code,
                  f.message.empty() ? "The provider rejected the request." : f.message,
                  std::nullopt};
      return answer_error(self, e);
    }
  }
}

// --- relaying the answer --------------------------------------------------

void meter_success(session_state& st, const providers::token_usage& u) {
  auto& t = current_target(st);
  auto* m = st.ctx->metrics;
  m->upstream_attempt(t.provider, t.model, st.cur.key_id, "ok");
  m->upstream_latency(t.provider, std::chrono::duration<double>(clock::now() - st.cur.started).count());
  write_row(st, cluster::usage_status::ok, u);
}

cluster::message_origin origin_of(const session_state& st) {
  auto& t = st.job.targets[st.target_index];
  return {t.provider, t.model, st.job.request_id};
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(wall_clock::now().time_since_epoch()).count();
}


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
  st.job.body["messages"].push_back({{"role", "tool"}, {"tool_call_id", tool_call_id}, {"content", std::move(content)}});
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
          {"body", st.job.body},
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

/// A sensitive call: the loop is stored and the client asked for a decision.
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
  if (!tl.confirmations || !tl.confirmations->put(p)) {
    return answer_error(self, {503, "server_error", "confirmation_store_unavailable",
                               "A sensitive tool needs approval, but the paused call could not be "
                               "stored. Retry shortly.", std::nullopt});
  }
  log::info("tool loop: request " + st.job.request_id + " paused before sensitive tool '" + p.tool +
            "' (workspace " + p.workspace + ", confirmation " + p.id + ")");
  auto completion = st.loop.completion;
  if (auto c = completion.find("choices"); c != completion.end() && c->is_array() && !c->empty())
    (*c)[0]["finish_reason"] = "tool_calls";
  completion["gateway"]["pending_confirmation"] = {{"id", p.id},
                                                   {"tool", p.tool},
                                                   {"tool_call_id", p.tool_call_id},
                                                   {"arguments", p.arguments},
                                                   {"expires_at", p.expires_ms / 1000}};
  completion["gateway"]["tool_rounds"] = st.loop.rounds;
  st.answered = true;
  st.out->respond(200, response_headers(st, "application/json"), completion.dump());
  self->quit();
}

void on_tool_done(self_ptr self, const std::string& content) {
  auto& st = self->state;
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
                                                            std::to_string(max_tool_answer_bytes) + " bytes."));
  if (st.loop.status / 100 != 2)
    return on_tool_done(self, tool_error("tool_failed", "The tool answered HTTP " + std::to_string(st.loop.status) + "."));
  auto answer = nlohmann::json::parse(st.loop.body, nullptr, false);
  if (answer.is_discarded())
    return on_tool_done(self, tool_error("invalid_tool_output", "The tool's answer is not JSON."));
  if (def.output) {
    auto errors = def.output->validate(answer);
    if (!errors.empty()) {
      log::warn("tool loop: request " + st.job.request_id + ": tool '" + def.name +
                "' answered outside its output_schema");
      return on_tool_done(self, tool_error("invalid_tool_output",
                                           "The tool's answer does not match its output_schema.",
                                           errors_json(errors)));
    }
  }
  on_tool_done(self, answer.dump());
}

void on_tool_event(self_ptr self, upstream_event& ev) {
  auto& st = self->state;
  switch (ev.what) {
    case upstream_event::kind::head:
      st.loop.status = ev.head.status;
      return;
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
                                                                        net::to_string(ev.error) + ")."));
    }
  }
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
  auto me = caf::actor_cast<caf::actor>(self);
  auto id = st.loop.call_id;
  auto send = [me, id](upstream_event e) {
    e.call = id;
    caf::anon_send(me, std::move(e));
  };
  net::upstream_handlers h;
  h.on_head = [send](net::upstream_head head) {
    upstream_event e;
    e.what = upstream_event::kind::head;
    e.head = std::move(head);
    send(std::move(e));
  };
  h.on_data = [send](std::string data) {
    upstream_event e;
    e.what = upstream_event::kind::data;
    e.data = std::move(data);
    send(std::move(e));
  };
  h.on_end = [send] {
    upstream_event e;
    e.what = upstream_event::kind::end;
    send(std::move(e));
  };
  h.on_error = [send](net::upstream_error err, std::string detail) {
    upstream_event e;
    e.what = upstream_event::kind::error;
    e.error = err;
    e.detail = std::move(detail);
    send(std::move(e));
  };
  st.loop.call = st.ctx->upstream->start(std::move(req), std::move(h));
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
      if (!approval.approve) {
        log::info("tool loop: sensitive tool '" + name + "' REFUSED by '" + approval.approver +
                  "' (workspace " + st.job.workspace + ", request " + st.job.request_id +
                  ", confirmation " + approval.confirmation_id + ")");
        add_tool_message(st, call_id, tool_error("refused",
                                                 "A person refused to run this tool call; do not retry it."));
        ++st.loop.next;
        continue;
      }
      log::info("tool loop: sensitive tool '" + name + "' approved by '" + approval.approver +
                "' and run (workspace " + st.job.workspace + ", request " + st.job.request_id +
                ", confirmation " + approval.confirmation_id + ", arguments " + arguments.dump() + ")");
    }
    return start_tool_call(self, *def, arguments);
  }
  next_round(self);
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
  st.job.body["messages"].push_back(std::move(assistant));
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

void finish_whole(self_ptr self) {
  auto& st = self->state;
  auto& t = current_target(st);
  auto decoded = st.ctx->provider(t.provider)->adapter->decode_response(st.cur.body, t.model);
  if (auto* why = std::get_if<std::string>(&decoded)) {
    return on_failure(self, failure{failure_kind::server_error, st.cur.status, "bad_response",
                                    "unreadable answer from the provider: " + *why});
  }
  auto& d = std::get<providers::decoded_completion>(decoded);
  if (d.completion.value("created", std::int64_t{0}) == 0) {
    d.completion["created"] = unix_now();
    d.raw.reset();  // changed: dump it
  }
  st.cur.call.reset();
  report(self, st.cur.status, true, failure_kind::server_error);
  meter_success(st, d.usage);
  if (st.job.tools) {
    if (continue_tool_loop(self, d.completion)) return;
    d.completion["gateway"]["tool_rounds"] = st.loop.rounds;
    d.raw.reset();
  }
  if (st.logging) {
    std::string text;
    if (auto c = d.completion.find("choices"); c != d.completion.end() && c->is_array() && !c->empty())
      if (auto m = (*c)[0].find("message"); m != (*c)[0].end())
        if (auto t = m->find("content"); t != m->end() && t->is_string()) text = t->get<std::string>();
    caf::anon_send(st.ctx->conversations, conv_start_atom::value, st.reply_key, origin_of(st),
                   std::move(text));
    st.reply_open = true;
    st.end_reply(cluster::message_status::complete);
  }
  st.answered = true;
  // An OpenAI-format answer goes out as the provider's bytes: no re-serialisation.
  st.out->respond(200, response_headers(st, "application/json"),
                  d.raw ? std::move(*d.raw) : d.completion.dump());
  self->quit();
}

bool carries_content(const nlohmann::json& chunk) {
  auto c = chunk.find("choices");
  if (c == chunk.end() || !c->is_array() || c->empty()) return chunk.contains("usage");
  auto& choice = (*c)[0];
  auto f = choice.find("finish_reason");
  if (f != choice.end() && !f->is_null()) return true;
  auto d = choice.find("delta");
  if (d == choice.end()) return false;
  // OpenAI's first chunk is {"role", "content": "", "refusal": null}: present
  // but empty fields are no content, else a failure before the first token
  // could no longer fall through to the next target.
  auto non_empty_string = [&](const char* key) {
    auto v = d->find(key);
    return v != d->end() && v->is_string() && !v->get_ref<const std::string&>().empty();
  };
  auto tool_calls = d->find("tool_calls");
  bool calls = tool_calls != d->end() && tool_calls->is_array() && !tool_calls->empty();
  return non_empty_string("content") || non_empty_string("refusal") || calls;
}

/// Characters of content and tool-call arguments a chunk carries.
std::int64_t content_chars(const nlohmann::json& chunk) {
  std::int64_t n = 0;
  auto c = chunk.find("choices");
  if (c == chunk.end() || !c->is_array()) return 0;
  for (auto& choice : *c) {
    auto d = choice.find("delta");
    if (d == choice.end()) continue;
    if (auto t = d->find("content"); t != d->end() && t->is_string())
      n += static_cast<std::int64_t>(t->get_ref<const std::string&>().size());
    if (auto calls = d->find("tool_calls"); calls != d->end() && calls->is_array())
      for (auto& call : *calls)
        if (auto f = call.find("function"); f != call.end())
          if (auto a = f->find("arguments"); a != f->end() && a->is_string())
            n += static_cast<std::int64_t>(a->get_ref<const std::string&>().size());
  }
  return n;
}

/// One SSE event: framed for the client (unless it left) and journaled for
/// a reattach (a logged stream). The id is <message_id>:<seq>.
void emit(session_state& st, std::string data, std::string& frames) {
  auto seq = ++st.seq;
  if (!st.detached) net::append_sse_frame(frames, st.message_id, seq, data);
  if (st.journaling) {
    st.journal_open = true;
    caf::anon_send(st.ctx->journal, journal_append_atom::value, st.message_id, seq, std::move(data));
  }
}

/// The content text of a chunk (the first choice's delta), for the log.
void append_delta_text(const nlohmann::json& chunk, std::string& text) {
  auto c = chunk.find("choices");
  if (c == chunk.end() || !c->is_array() || c->empty()) return;
  auto d = (*c)[0].find("delta");
  if (d == (*c)[0].end() || !d->is_object()) return;
  if (auto t = d->find("content"); t != d->end() && t->is_string())
    text += t->get_ref<const std::string&>();
}

void start_stream(self_ptr self, std::string& frames) {
  auto& st = self->state;
  st.stream_started = true;
  st.ctx->metrics->stream_started();
  st.ctx->metrics->time_to_first_token(
      current_target(st).provider,
      std::chrono::duration<double>(clock::now() - st.job.started).count());
  auto h = response_headers(st, "text/event-stream");
  h.emplace_back("cache-control", "no-cache");
  st.out->start_stream(200, std::move(h));
  if (st.logging) {
    // A resume's row exists (its text kept); this names who continues it.
    caf::anon_send(st.ctx->conversations, conv_start_atom::value, st.reply_key, origin_of(st),
                   std::string());
    st.reply_open = true;
  }
  if (st.job.resume && !st.replayed) {
    // The stored text first, as one chunk: the client sees one message.
    st.replayed = true;
    nlohmann::json replay = {
        {"id", "chatcmpl-" + st.job.request_id.substr(4)},
        {"object", "chat.completion.chunk"},
        {"created", unix_now()},
        {"model", current_target(st).model},
        {"choices",
         {{{"index", 0},
           {"delta", {{"role", "assistant"}, {"content", st.job.resume->text}}},
           {"finish_reason", nullptr}}}}};
    emit(st, replay.dump(), frames);
  }
}

void cancel_upstream(session_state& st) {
  if (!st.cur.call) return;
  st.cur.call->cancel();
  st.cur.call.reset();
  st.ctx->metrics->upstream_cancelled();
  auto& t = current_target(st);
  st.ctx->metrics->upstream_attempt(t.provider, t.model, st.cur.key_id, "cancelled");
  write_row(st, cluster::usage_status::cancelled, usage_so_far(st.cur));
}

/// Back-pressure: the client left more than the bound unread. Nothing more
/// is queued for it: the upstream is cancelled (metered), the reply stays
/// partial (resumable), and the server's write-stall timeout drops the
/// connection if the client never reads the end.
void drop_slow_client(self_ptr self) {
  auto& st = self->state;
  log::warn("request " + st.job.request_id + ": client left " +
            std::to_string(st.out->pending_bytes()) + " bytes unread; stream cut");
  st.ctx->metrics->slow_client_dropped();
  api_error e{503, "server_error", "client_too_slow",
              "The stream was cut because the client read too slowly.", std::nullopt};
  st.out->write(net::sse_named_frame("", "error", e.to_body()));
  st.out->finish();
  cancel_upstream(st);
  st.answered = true;
  self->quit();
}

/// A chunk's text for the client: the upstream's own when unchanged, else dumped.
std::string chunk_text(providers::relay_chunk& c) {
  return c.raw.empty() ? c.chunk.dump() : std::move(c.raw);
}

/// false: the session stopped (slow client); the caller returns at once.
bool relay_chunks(self_ptr self, std::vector<providers::relay_chunk>& chunks) {
  auto& st = self->state;
  std::string frames;
  std::string text;
  for (auto& c : chunks) {
    if (!st.stream_started) {
      if (!carries_content(c.chunk)) {
        st.held.push_back(std::move(c));
        continue;
      }
      start_stream(self, frames);
      for (auto& h : st.held) emit(st, chunk_text(h), frames);
      st.held.clear();
    }
    st.cur.streamed_chars += content_chars(c.chunk);
    if (st.reply_open) append_delta_text(c.chunk, text);
    emit(st, chunk_text(c), frames);
  }
  if (!text.empty())
    caf::anon_send(st.ctx->conversations, conv_delta_atom::value, st.reply_key, std::move(text));
  if (st.detached || frames.empty()) return true;
  st.out->write(std::move(frames));
  if (st.out->pending_bytes() > st.ctx->max_stream_backlog_bytes) {
    drop_slow_client(self);
    return false;
  }
  return true;
}

void finish_stream(self_ptr self) {
  auto& st = self->state;
  auto usage = st.cur.decoder->usage();
  st.cur.call.reset();
  report(self, st.cur.status, true, failure_kind::server_error);
  meter_success(st, usage);
  if (!st.stream_started) {
    // Nothing but role chunks came: still a valid (empty) answer.
    std::string frames;
    start_stream(self, frames);
    for (auto& h : st.held) emit(st, chunk_text(h), frames);
    if (!frames.empty()) st.out->write(std::move(frames));
  }
  st.end_reply(cluster::message_status::complete);
  st.answered = true;
  if (!st.detached) {
    st.out->write("data: [DONE]\n\n");
    st.out->finish();
  }
  self->quit();
}

void on_upstream(self_ptr self, upstream_event& ev) {
  auto& st = self->state;
  if (st.loop.call && ev.call == st.loop.call_id) return on_tool_event(self, ev);
  if (ev.call != st.cur.call_id || !st.cur.call) return;  // a cancelled call's late news
  auto& t = current_target(st);
  auto& adapter = *st.ctx->provider(t.provider)->adapter;
  switch (ev.what) {
    case upstream_event::kind::head:
      st.cur.status = ev.head.status;
      st.cur.headers = std::move(ev.head.headers);
      if (st.job.stream && st.cur.status / 100 == 2)
        st.cur.decoder = adapter.make_stream_decoder(t.model, "chatcmpl-" + st.job.request_id.substr(4),
                                                     unix_now(), st.job.include_usage);
      return;
    case upstream_event::kind::data: {
      if (!st.cur.decoder) {
        st.cur.body += ev.data;
        return;
      }
      std::vector<sse_event> events;
      st.cur.sse.feed(ev.data, events);
      std::vector<providers::relay_chunk> chunks;
      for (auto& e : events) {
        if (auto f = st.cur.decoder->decode(e, chunks)) {
          if (!relay_chunks(self, chunks)) return;
          st.cur.call->cancel();
          return on_failure(self, *f);
        }
      }
      relay_chunks(self, chunks);
      return;
    }
    case upstream_event::kind::end:
      if (st.cur.status / 100 != 2)
        return on_failure(self, adapter.classify(st.cur.status, st.cur.body));
      if (!st.cur.decoder) return finish_whole(self);
      {
        // Flush a last event that lacked its blank line.
        std::vector<sse_event> events;
        st.cur.sse.feed("\n\n", events);
        std::vector<providers::relay_chunk> chunks;
        for (auto& e : events) st.cur.decoder->decode(e, chunks);
        if (!relay_chunks(self, chunks)) return;
      }
      if (!st.cur.decoder->done())
        return on_failure(self, failure{failure_kind::server_error, st.cur.status, "stream_truncated",
                                        "the provider's stream ended early"});
      return finish_stream(self);
    case upstream_event::kind::error:
      return on_failure(self, failure{failure_kind::server_error, 0, net::to_string(ev.error),
                                      std::string(net::to_string(ev.error)) +
                                          (ev.detail.empty() ? "" : ": " + ev.detail)});
  }
}

/// A resume's request: the conversation so far, then the partial reply.
/// Anthropic continues an assistant prefill (a final assistant message) and
/// rejects trailing whitespace in it; the others are told to continue.
nlohmann::json resume_body(const nlohmann::json& body, const std::string& text, bool prefill) {
  auto b = body;
  auto& messages = b["messages"];
  if (prefill) {
    auto end = text.find_last_not_of(" \t\r\n");
    messages.push_back({{"role", "assistant"}, {"content", text.substr(0, end == std::string::npos ? 0 : end + 1)}});
    return b;
  }
  messages.push_back({{"role", "assistant"}, {"content", text}});
  messages.push_back({{"role", "user"},
                      {"content", "Your previous reply was cut off. Continue it from exactly where it "
                                  "stops: do not repeat any of it, add no preamble, start mid-sentence "
                                  "if it stopped mid-sentence."}});
  return b;
}

void start_call(self_ptr self, const key_grant& g) {
  auto& st = self->state;
  auto& t = current_target(st);
  auto* p = st.ctx->provider(t.provider);
  auto enc = st.job.resume
                 ? p->adapter->encode(resume_body(st.job.body, st.job.resume->text, t.provider == "anthropic"),
                                      t.model, g.secret, st.job.stream)
                 : p->adapter->encode(st.job.body, t.model, g.secret, st.job.stream);

  net::upstream_request req;
  req.url = p->config->base_url + enc.path;
  req.headers = std::move(enc.headers);
  if (st.job.stream) req.headers.emplace_back("accept", "text/event-stream");
  req.body = std::move(enc.body);
  auto& to = st.ctx->config->timeouts;
  req.timeouts = {to.connect, to.first_byte, to.total};

  st.cur = attempt{};
  st.cur.call_id = st.next_call_id++;
  st.cur.slot = g.slot;
  st.cur.key_id = g.key_id;
  st.cur.started = clock::now();
  st.cur.number = ++st.attempts_made;

  // The client's threads tell the session by message, never by touching it.
  auto me = caf::actor_cast<caf::actor>(self);
  auto id = st.cur.call_id;
  net::upstream_handlers h;
  h.on_head = [me, id](net::upstream_head head) {
    upstream_event e;
    e.call = id;
    e.what = upstream_event::kind::head;
    e.head = std::move(head);
    caf::anon_send(me, std::move(e));
  };
  h.on_data = [me, id](std::string data) {
    upstream_event e;
    e.call = id;
    e.what = upstream_event::kind::data;
    e.data = std::move(data);
    caf::anon_send(me, std::move(e));
  };
  h.on_end = [me, id] {
    upstream_event e;
    e.call = id;
    e.what = upstream_event::kind::end;
    caf::anon_send(me, std::move(e));
  };
  h.on_error = [me, id](net::upstream_error err, std::string detail) {
    upstream_event e;
    e.call = id;
    e.what = upstream_event::kind::error;
    e.error = err;
    e.detail = std::move(detail);
    caf::anon_send(me, std::move(e));
  };
  st.cur.call = st.ctx->upstream->start(std::move(req), std::move(h));
}

/// A configured provider whose actor is not (yet, or again) in the directory:
/// the supervisor is starting or restarting it, which takes microseconds.
/// Look again shortly, within a bound, rather than skip a healthy provider.
void await_provider_actor(self_ptr self) {
  auto& st = self->state;
  if (st.waited_for_actor < provider_actor_wait) {
    st.waited_for_actor += provider_actor_poll;
    return wake_after(self, provider_actor_poll);
  }
  st.cur = attempt{};
  record_attempt(st, 0, "provider actor unavailable");
  next_provider(self);
}

/// Asks the current target's provider for a key and acts on the grant.
void walk(self_ptr self) {
  auto& st = self->state;
  if (st.target_index >= st.job.targets.size()) {
    api_error e{502, "server_error", "all_providers_failed",
                "Every provider in the cascade failed; see `attempts` for each one's answer.",
                std::nullopt};
    return answer_error(self, e, {{"attempts", st.attempts}});
  }
  auto& t = current_target(st);
  if (!st.ctx->provider(t.provider)) {
    st.cur = attempt{};
    record_attempt(st, 0, "provider not configured");
    return next_provider(self);
  }
  auto handle = st.ctx->directory->find(t.provider);
  if (!handle) return await_provider_actor(self);
  self->request(*handle, std::chrono::seconds(5), acquire_atom::value, t.model)
      .then(
          [=](key_grant& g) {
            auto& st = self->state;
            switch (g.what) {
              case key_grant::kind::leased:
                return start_call(self, g);
              case key_grant::kind::wait: {
                // At least 1 ms: the key may have become ready since the grant.
                auto delay = std::max(std::chrono::ceil<std::chrono::milliseconds>(g.ready_at - clock::now()),
                                      std::chrono::milliseconds(0)) + std::chrono::milliseconds(1);
                if (st.waited + delay <= st.ctx->config->retry.max_wait_for_key) {
                  st.waited += delay;
                  return wake_after(self, delay);
                }
                st.cur = attempt{};
                record_attempt(st, 0, "every key is cooling down");
                return next_provider(self);
              }
              case key_grant::kind::unavailable:
                st.cur = attempt{};
                record_attempt(st, 0, g.reason);
                return next_provider(self);
            }
          },
          [=](caf::error&) { await_provider_actor(self); });
}

std::string with_thousands(std::int64_t v) {
  auto s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > (v < 0 ? 1 : 0); i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

/// 402 workspace_cap_reached, naming workspace, cap, usage, period and reset.
api_error cap_reached(const chat_job& job, const quota_answer& a) {
  auto& d = a.decision;
  std::string what;
  if (d.refused_by == cluster::quota_limit::cost) {
    what = "monthly cost cap of $" + std::to_string(*job.caps.cost_micros / 1000000.0).substr(0, 10) +
           " (used $" + std::to_string(d.used.cost_micros / 1000000.0).substr(0, 10) + ")";
  } else {
    what = "monthly token cap of " + with_thousands(job.caps.tokens.value_or(0)) + " tokens (used " +
           with_thousands(d.used.tokens) + ")";
  }
  return {402, "insufficient_quota", "workspace_cap_reached",
          "Workspace '" + job.workspace + "' has reached its " + what + " for " + a.period +
              ": this request needs about " + with_thousands(job.reservation.tokens) +
              " tokens. The cap resets at " + cluster::period_reset_iso8601(a.period) + ".",
          std::nullopt};
}

/// The first step once admitted: the cascade, or a paused tool loop's resume.
void begin(self_ptr self) {
  auto& st = self->state;
  if (st.job.tools && st.job.tools->resume_state) return resume_tool_loop(self);
  walk(self);
}

/// SPEC 6: reserve before any upstream call; refused -> 402 and no call.
void reserve_then_walk(self_ptr self) {
  auto& st = self->state;
  quota_request q;
  q.workspace = st.job.workspace;
  q.amount = st.job.reservation;
  q.caps = st.job.caps;
  self->request(st.ctx->quota, std::chrono::seconds(5), reserve_atom::value, std::move(q))
      .then(
          [=](quota_answer& a) {
            auto& st = self->state;
            switch (a.verdict) {
              case quota_verdict::admitted:
                if (a.metered()) st.reservation = a.decision.reservation;
                if (a.decision.remaining_tokens)
                  st.job.extra_headers.emplace_back("x-gateway-quota-remaining-tokens",
                                                    std::to_string(*a.decision.remaining_tokens));
                return begin(self);
              case quota_verdict::refused:
                st.ctx->metrics->quota_rejection(st.job.workspace);
                if (a.decision.remaining_tokens)
                  st.job.extra_headers.emplace_back("x-gateway-quota-remaining-tokens",
                                                    std::to_string(*a.decision.remaining_tokens));
                return answer_error(self, cap_reached(st.job, a));
              case quota_verdict::unavailable:
                log::error("quota store unavailable, refusing capped request: " + a.error);
                return answer_error(self, {503, "server_error", "quota_unavailable",
                                           "The usage cap cannot be checked right now, so this capped "
                                           "workspace's request was not sent. Retry shortly.",
                                           std::nullopt});
            }
          },
          [=](caf::error& e) {
            log::error("quota actor did not answer: " + self->system().render(e));
            answer_error(self, {503, "server_error", "quota_unavailable",
                                "The usage cap cannot be checked right now. Retry shortly.", std::nullopt});
          });
}

/// The request's last user message, as text (parts joined).
std::string last_user_text(const nlohmann::json& body) {
  auto& messages = body["messages"];
  for (auto m = messages.rbegin(); m != messages.rend(); ++m) {
    if (m->value("role", "") != "user") continue;
    auto c = m->find("content");
    if (c == m->end()) return {};
    if (c->is_string()) return c->get<std::string>();
    std::string text;
    if (c->is_array())
      for (auto& part : *c)
        if (part.is_object() && part.value("type", "") == "text") text += part.value("text", "");
    return text;
  }
  return {};
}

caf::behavior session_impl(self_ptr self, std::shared_ptr<const gateway_context> ctx, chat_job job,
                           std::shared_ptr<net::responder> out) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  ++st.ctx->live_sessions;
  st.job = std::move(job);
  st.out = std::move(out);
  st.message_id = st.job.resume ? st.job.resume->message_id
                                : "msg_" + st.job.request_id.substr(st.job.request_id.find('_') + 1);
  if (st.job.resume) st.seq = st.job.resume->last_seq;

  self->set_exception_handler([=](std::exception_ptr&) -> caf::error {
    return caf::sec::runtime_error;  // the state's destructor answers 500
  });

  auto me = caf::actor_cast<caf::actor>(self);
  st.out->on_client_gone([me] { caf::anon_send(me, gone_atom::value); });

  if (st.job.targets.empty()) {
    auto e = no_providers_configured();
    answer_error(self, e);
    return {};
  }
  st.logging = !st.job.conversation_id.empty() && st.ctx->conversations;
  st.journaling = st.logging && st.job.stream && st.ctx->journal;
  if (st.logging) {
    st.reply_key = {st.job.workspace, st.job.conversation_id, st.message_id};
    if (st.job.resume) {
      // In progress again at once, its stored text kept.
      caf::anon_send(st.ctx->conversations, conv_start_atom::value, st.reply_key, origin_of(st),
                     st.job.resume->text);
      st.reply_open = true;
    } else if (!(st.job.tools && st.job.tools->resume_state)) {  // a resumed loop logged it already
      caf::anon_send(st.ctx->conversations, conv_user_atom::value,
                     cluster::message_key{st.job.workspace, st.job.conversation_id,
                                          cluster::new_message_id()},
                     last_user_text(st.job.body), st.job.request_id);
    }
  }
  if (st.job.tools && st.job.tools->resume_state) {
    auto& rs = *st.job.tools->resume_state;
    st.attempts_made = rs.value("attempts_made", 0);  // the request's rows number on
  }
  if (st.job.caps.any() && st.ctx->quota) {
    reserve_then_walk(self);
  } else {
    begin(self);
  }
  return {
      [=](upstream_event& ev) { on_upstream(self, ev); },
      [=](wake_atom, std::uint64_t gen) {
        if (gen == self->state.wake_generation) walk(self);
      },
      [=](gone_atom) {
        auto& st = self->state;
        if (st.detached) return;
        // SPEC 7: a logged stream may be reattached; its upstream runs on
        // for resume_grace (journaled), then is cancelled.
        auto grace = st.ctx->config->streams.resume_grace;
        if (grace.count() > 0 && st.stream_started && st.journaling && st.cur.call) {
          st.detached = true;
          st.answered = true;
          self->delayed_send(self, grace, grace_atom::value);
          return;
        }
        // The client left: close what we started, then stop. No retry starts.
        cancel_upstream(st);
        if (st.loop.call) {
          st.loop.call->cancel();
          st.loop.call.reset();
        }
        st.answered = true;  // nobody is left to answer
        self->quit();
      },
      [=](grace_atom) {
        cancel_upstream(self->state);
        self->quit();
      },
  };
}

}  // namespace

caf::actor spawn_session(caf::actor_system& sys, std::shared_ptr<const gateway_context> ctx,
                         chat_job job, std::shared_ptr<net::responder> out) {
  return sys.spawn(session_impl, std::move(ctx), std::move(job), std::move(out));
}

}  // namespace sb::actors
