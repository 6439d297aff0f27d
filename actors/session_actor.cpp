#include "actors/session_actor.hpp"

#include "actors/session_state.hpp"
#include "actors/upstream_event_sink.hpp"

#include <random>

#include "cluster/billing_period.hpp"
#include "core/api_error.hpp"
#include "core/log.hpp"
#include "core/token_estimate.hpp"
#include "metrics/gateway_metrics.hpp"
#include "net/sse.hpp"
#include "providers/rate_limit_headers.hpp"
#include "net/upstream_client.hpp"

namespace sb::actors::session {
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

void await_provider_actor(self_ptr self);
void next_provider(self_ptr self);
void record_attempt(session_state& st, int status, const std::string& error);
void start_call(self_ptr self, const key_grant& g);
void wake_after(self_ptr self, std::chrono::milliseconds delay);

}  // namespace

session_state::~session_state() {
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

void answer_error(self_ptr self, const api_error& e, const nlohmann::json& extra) {
  auto& st = self->state;
  st.answered = true;
  if (st.stream_started) {
    // A streamed tool loop's later round failed: the stream is open, it
    // ends with an error event (as a mid-stream failure does).
    if (!st.detached) {
      st.out->write(net::sse_named_frame("", "error", e.to_body(extra)));
      st.out->finish();
    }
    self->quit();
    return;
  }
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
  for (const auto& h : st.cur.headers)
    if (providers::is_rate_limit_header(h.first)) r.headers.push_back(h);
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
  if (!st.ctx->ledger) return;
  if (!st.ctx->ledger_rows) return caf::anon_send(st.ctx->ledger, append_atom::value, std::move(row));
  // Only the row that finds the inbox empty wakes the ledger's thread.
  if (st.ctx->ledger_rows->add(std::move(row)))
    caf::anon_send(st.ctx->ledger, append_atom::value, std::vector<cluster::usage_row>{});
}

providers::token_usage usage_so_far(const attempt& a) {
  return a.decoder ? a.decoder->usage() : providers::token_usage{};
}

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
  // No timeout: the provider actor answers from memory, and one that dies
  // bounces the request as an error (handled below). A timeout would cost a
  // clock-thread wake-up per request.
  self->request(*handle, caf::infinite, acquire_atom::value, t.model)
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

namespace {



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

  // A later round of a streamed tool loop that sent nothing yet may still fall through.
  if (st.stream_started && (!st.job.tools || st.loop.round.sent_content)) {
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





void finish_whole(self_ptr self) {
  auto& st = self->state;
  auto& t = current_target(st);
  auto decoded = st.ctx->provider(t.provider)->adapter->decode_response(st.cur.body, t.model);
  if (auto* why = std::get_if<std::string>(&decoded)) {
    return on_failure(self, failure{failure_kind::server_error, st.cur.status, "bad_response",
                                    "unreadable answer from the provider: " + *why});
  }
  auto& d = std::get<providers::decoded_completion>(decoded);
  if (d.created == 0) {
    d.parsed()["created"] = unix_now();
    d.raw.reset();  // changed: dump it
  }
  st.cur.call.reset();
  report(self, st.cur.status, true, failure_kind::server_error);
  meter_success(st, d.usage);
  if (st.job.tools) {
    if (continue_tool_loop(self, d.parsed())) return;
    d.completion["gateway"]["tool_rounds"] = st.loop.rounds;
    d.raw.reset();
  }
  if (st.logging) {
    caf::anon_send(st.ctx->conversations, conv_start_atom::value, st.reply_key, origin_of(st),
                   std::move(d.text));
    st.reply_open = true;
    st.end_reply(cluster::message_status::complete);
  }
  st.answered = true;
  // An OpenAI-format answer goes out as the provider's bytes: no re-serialisation.
  st.out->respond(200, response_headers(st, "application/json"),
                  d.raw ? std::move(*d.raw) : d.completion.dump());
  self->quit();
}

void on_head(session_state& st, net::upstream_head& head) {
  st.cur.status = head.status;
  st.cur.headers = std::move(head.headers);
  if (st.job.stream && st.cur.status / 100 == 2) {
    auto& t = current_target(st);
    st.cur.decoder = for_tool_loop(st, st.ctx->provider(t.provider)->adapter->make_stream_decoder(
        t.model, "chatcmpl-" + st.job.request_id.substr(4), unix_now(), st.job.include_usage));
  }
}

void on_body_piece(self_ptr self, std::string& data) {
  auto& st = self->state;
  if (!st.cur.decoder) {
    st.cur.body += data;
    return;
  }
  std::vector<sse_event> events;
  st.cur.sse.feed(data, events);
  std::vector<providers::relay_chunk> chunks;
  for (auto& e : events) {
    if (auto f = st.cur.decoder->decode(e, chunks)) {
      if (!relay_chunks(self, chunks)) return;
      st.cur.call->cancel();
      return on_failure(self, *f);
    }
  }
  relay_chunks(self, chunks);
}

void on_body_end(self_ptr self) {
  auto& st = self->state;
  if (st.cur.status / 100 != 2) {
    auto& t = current_target(st);
    return on_failure(self, st.ctx->provider(t.provider)->adapter->classify(st.cur.status, st.cur.body));
  }
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
  finish_stream(self);
}

void on_upstream(self_ptr self, upstream_event& ev) {
  auto& st = self->state;
  if (st.loop.call && ev.call == st.loop.call_id) return on_tool_event(self, ev);
  if (ev.call != st.cur.call_id || !st.cur.call) return;  // a cancelled call's late news
  switch (ev.what) {
    case upstream_event::kind::head:
      on_head(st, ev.head);
      if (!ev.data.empty()) on_body_piece(self, ev.data);
      return;
    case upstream_event::kind::data:
      return on_body_piece(self, ev.data);
    case upstream_event::kind::end:
      return on_body_end(self);
    case upstream_event::kind::whole:
      on_head(st, ev.head);
      st.cur.body = std::move(ev.data);
      return on_body_end(self);
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
                 ? p->adapter->encode(resume_body(st.job.body.tree(), st.job.resume->text, t.provider == "anthropic"),
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
  auto h = upstream_event_sink(caf::actor_cast<caf::actor>(self), st.cur.call_id,
                               st.job.stream ? upstream_delivery::pieces : upstream_delivery::whole);
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
                     last_user_text(st.job.body.tree()), st.job.request_id);
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
        // Not a tool loop: with nobody to answer, no further tool may run.
        if (grace.count() > 0 && st.stream_started && st.journaling && st.cur.call && !st.job.tools) {
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
}  // namespace sb::actors::session

namespace sb::actors {

caf::actor spawn_session(caf::actor_system& sys, std::shared_ptr<const gateway_context> ctx,
                         chat_job job, std::shared_ptr<net::responder> out) {
  return sys.spawn(session::session_impl, std::move(ctx), std::move(job), std::move(out));
}

}  // namespace sb::actors