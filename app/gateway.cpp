#include "app/gateway.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <caf/all.hpp>

#include "actors/conversation_actor.hpp"
#include "actors/gateway_context.hpp"
#include "actors/journal_writer_actor.hpp"
#include "actors/ledger_actor.hpp"
#include "actors/provider_supervisor.hpp"
#include "actors/quota_actor.hpp"
#include "app/io_scheduler.hpp"
#include "app/prompt_rollout_apply.hpp"
#include "app/routes.hpp"
#include "cluster/open_conversation_store.hpp"
#include "cluster/open_ledger_store.hpp"
#include "cluster/open_quota_store.hpp"
#include "cluster/open_stream_journal.hpp"
#include "cluster/cooldown_notifier.hpp"
#include "cluster/rollout_notifier.hpp"
#include "core/log.hpp"
#include "metrics/gateway_metrics.hpp"
#include "net/http_server.hpp"
#include "net/io_threads.hpp"
#include "net/upstream_client.hpp"

namespace sb {


struct gateway::impl {
  // Declared first so that it is destroyed last: late callbacks from actors
  // may still post to it while the actor system shuts down. A context per
  // thread (net/io_threads.hpp), which also runs the actors (ADR-0001).
  net::io_threads io;

  std::shared_ptr<const gateway_config> cfg;
  gateway_options opts;
  gateway_metrics metrics;
  actors::provider_directory directory;
  caf::actor_system_config caf_cfg;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<net::upstream_client> upstream;
  std::unique_ptr<net::http_server> server;
  caf::actor supervisor;
  actors::ledger_actor ledger;
  actors::quota_actor quota;
  actors::conversation_actor conversations;
  actors::journal_writer_actor journal;
  std::shared_ptr<actors::gateway_context> ctx;
  app_context app;
  live_snapshot<prompts::prompt_library> prompts{prompts::prompt_library::empty()};
  live_snapshot<tools::tool_registry> tools;
  // After `prompts`: destroyed first, so its thread never sees a dead snapshot.
  std::unique_ptr<cluster::rollout_notifier> rollouts;
  // Cluster mode: key cooldowns shared by every node (ADR-0006). Providers
  // hold it weakly: destroyed here, before the actor system.
  std::shared_ptr<cluster::cooldown_notifier> cooldowns;
  std::uint16_t port = 0;

  std::mutex mutex;
  std::condition_variable stopped_cv;
  bool stopping = false;
  bool stopped = false;

  impl(gateway_config c, gateway_options o)
      : io(o.io_threads), cfg(std::make_shared<gateway_config>(std::move(c))), opts(std::move(o)) {
    if (opts.actors_on_io_threads) {
      schedule_actors_on(caf_cfg, io);
    } else {
      caf_cfg.set("scheduler.max-threads", opts.actor_threads);
      // An idle CAF worker polls every 50 µs for ~25 ms before it sleeps on a
      // condition variable, so a message to it waits for the next poll; the
      // condition variable wakes it at once.
      caf_cfg.set("work-stealing.moderate-poll-attempts", std::size_t{0});
    }
    caf_cfg.set("logger.console", caf::atom("none"));
    system = std::make_unique<caf::actor_system>(caf_cfg);
  }
};

gateway::gateway(gateway_config cfg, gateway_options opts)
    : impl_(std::make_unique<impl>(std::move(cfg), std::move(opts))) {}

gateway::~gateway() { drain_and_stop(); }

std::string gateway::start() {
  auto& d = *impl_;
  auto loaded = d.opts.preloaded ? std::variant<registries, std::string>(*d.opts.preloaded)
                                 : load_registries(*d.cfg);
  if (auto* e = std::get_if<std::string>(&loaded)) return *e;
  auto& regs = std::get<registries>(loaded);
  d.prompts.set(regs.prompts);
  d.tools.set(regs.tools);
  d.app.prompts = &d.prompts;
  d.app.tools = &d.tools;
  // Cluster mode: PUT rollout on any node reaches every node (ADR-0012).
  if (!d.cfg->redis_url.empty()) {
    auto n = cluster::rollout_notifier::start(d.cfg->redis_url, [&d](const std::string& name, const std::string& json) {
      apply_rollout_notification(d.prompts, name, json);
    });
    if (!n) return "rollout notifications (REDIS_URL): " + n.error().to_string();
    d.rollouts = std::move(n.value());
    d.app.rollouts = d.rollouts.get();
  }

  // The I/O threads run the actors too (io_scheduler.hpp): they start before
  // the first actor. Nothing listens yet.
  d.io.start();
  net::upstream_client_options uo;
  uo.ca_file = d.opts.upstream_ca_file;
  d.upstream = std::make_unique<net::upstream_client>(d.io, uo);
  std::vector<std::string> provider_ids;
  for (auto& p : d.cfg->providers) {
    provider_ids.push_back(p.id);
    for (auto& k : p.keys) d.metrics.declare_key(p.id, k.id);
  }
  if (d.cfg->open_mode()) d.metrics.declare_workspace("default", provider_ids);
  for (auto& ws : d.cfg->workspaces) d.metrics.declare_workspace(ws.id, provider_ids);
  // Cluster mode: a cooldown learned on one node holds on every node (SPEC 5, ADR-0006).
  auto cooldown_sink = std::make_shared<std::weak_ptr<cluster::cooldown_notifier>>();
  actors::cooldown_publisher publish_cooldown;
  if (!d.cfg->redis_url.empty())
    publish_cooldown = [cooldown_sink](const actors::cooldown_notice& n) {
      if (auto c = cooldown_sink->lock()) c->publish({n.provider, n.key_id, n.ready_at_ms, n.invalid, 0});
    };
  d.supervisor = actors::spawn_provider_supervisor(*d.system, *d.cfg, &d.directory, &d.metrics, publish_cooldown);
  // Serve only once every provider actor is published: the supervisor spawns
  // them asynchronously, and a request that came first would have to wait.
  {
    using namespace std::chrono_literals;
    auto all_published = [&d] {
      for (auto& p : d.cfg->providers)
        if (!d.directory.find(p.id)) return false;
      return true;
    };
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (!all_published() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  }
  if (!d.cfg->redis_url.empty()) {
    auto n = cluster::cooldown_notifier::start(d.cfg->redis_url, [sup = d.supervisor](const cluster::key_cooldown& c) {
      caf::anon_send(sup, actors::cooldown_atom::value, actors::cooldown_notice{c.provider, c.key_id, c.ready_at_ms, c.invalid});
    });
    if (!n) return "key cooldowns (REDIS_URL): " + n.error().to_string();
    d.cooldowns = std::move(n.value());
    *cooldown_sink = d.cooldowns;  // before any request: the server is not listening yet
  }

  // The ledger must open (its schema is checked now); the quota store
  // connects lazily: a Redis that is down at start is an outage (ADR-0009).
  auto ledger_store = cluster::open_ledger_store(d.cfg->database_url);
  if (!ledger_store) return "ledger (DATABASE_URL): " + ledger_store.error().to_string();
  auto quota_store = cluster::open_quota_store(d.cfg->redis_url, d.cfg->database_url);
  if (!quota_store) return "quota (REDIS_URL): " + quota_store.error().to_string();
  auto ledger_counters = std::make_shared<cluster::ledger_counters>();
  auto quota_counters = std::make_shared<actors::quota_counters>();
  actors::ledger_actor_options lo;
  lo.inbox = std::make_shared<actors::ledger_inbox>(lo.batching.batch_rows);
  auto ledger_rows = lo.inbox;
  d.ledger = actors::spawn_ledger_actor(*d.system, ledger_store.value(), lo, ledger_counters);
  d.quota = actors::spawn_quota_actor(*d.system, quota_store.value(), {}, quota_counters);
  d.metrics.on_collect([ledger_counters, quota_counters] {
    gateway_metrics::store_counters c;
    c.ledger_buffered = ledger_counters->buffered.load();
    c.ledger_written = ledger_counters->written.load();
    c.ledger_dropped = ledger_counters->dropped.load();
    c.ledger_failed_flushes = ledger_counters->failed_flushes.load();
    c.quota_pending_settles = quota_counters->pending_settles.load();
    c.quota_unavailable = quota_counters->unavailable.load();
    return c;
  });
  // SPEC 7: conversations in the ledger's database; the stream journal in
  // process, or in Redis with REDIS_URL (a reattach on any node).
  auto conversation_store = cluster::open_conversation_store(d.cfg->database_url);
  if (!conversation_store)
    return "conversations (DATABASE_URL): " + conversation_store.error().to_string();
  cluster::stream_journal_options jo;
  jo.grace = std::max<std::chrono::milliseconds>(jo.grace, d.cfg->streams.resume_grace);
  auto journals = cluster::open_stream_journal(d.cfg->redis_url, jo);
  if (!journals) return "stream journal (REDIS_URL): " + journals.error().to_string();
  actors::conversation_actor_options co;
  co.writing.persist_every = d.cfg->streams.persist_every;
  d.conversations = actors::spawn_conversation_actor(*d.system, conversation_store.value(), co);
  d.journal = actors::spawn_journal_writer(*d.system, journals.value()());
  d.app.journals = journals.value();

  d.app.system = d.system.get();
  // SPEC 9: paused tool loops, in process or in Redis (any node decides; ADR-0013).
  d.app.confirmations = d.cfg->redis_url.empty() ? actors::make_memory_confirmation_store()
                                                 : actors::make_redis_confirmation_store(d.cfg->redis_url);
  if (!d.app.confirmations) return "tool confirmations (REDIS_URL): invalid URL";
  d.app.confirmation_ttl = d.cfg->tool_confirmations.expiry;  // config tool_confirmations.expiry_ms
  auto ctx = actors::make_gateway_context(d.cfg, &d.directory, d.upstream.get(), &d.metrics);
  ctx->ledger = d.ledger;
  ctx->ledger_rows = ledger_rows;
  ctx->quota = d.quota;
  ctx->conversations = d.conversations;
  ctx->journal = d.journal;
  ctx->max_stream_backlog_bytes = d.opts.max_stream_backlog_bytes;
  d.ctx = ctx;
  d.app.gateway = ctx;

  auto& lim = d.cfg->limits;
  net::http_server_options so;
  so.host = d.cfg->listen_host;
  so.port = d.cfg->listen_port;
  so.max_body_bytes = lim.max_body_bytes;
  so.max_header_bytes = lim.max_header_bytes;
  so.read_timeout = lim.read_timeout;
  so.idle_timeout = lim.idle_timeout;
  so.write_stall_timeout = d.opts.write_stall_timeout;
  auto app = &d.app;
  d.server = std::make_unique<net::http_server>(
      d.io, so, [app](net::http_request req, std::shared_ptr<net::responder> out) {
        route(*app, std::move(req), std::move(out));
      });
  auto [port, err] = d.server->listen();
  if (!err.empty()) return err;
  d.port = port;
  return {};
}

std::uint16_t gateway::port() const { return impl_->port; }

std::string gateway::reload() {
  auto& d = *impl_;
  auto loaded = load_registries(*d.cfg);
  if (auto* e = std::get_if<std::string>(&loaded)) return *e;
  auto& regs = std::get<registries>(loaded);
  for (auto& w : regs.warnings) log::warn(w);
  d.prompts.set(regs.prompts);
  d.tools.set(regs.tools);
  return {};
}

void gateway::drain_and_stop() {
  auto& d = *impl_;
  {
    std::lock_guard lock(d.mutex);
    if (d.stopping) return;
    d.stopping = true;
  }
  using namespace std::chrono_literals;
  if (d.server) {
    d.server->stop_accepting();
    auto deadline = std::chrono::steady_clock::now() + d.cfg->limits.drain;
    while (d.server->in_flight() > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    if (auto left = d.server->in_flight())
      log::warn("drain: " + std::to_string(left) + " request(s) still in flight after the drain "
                "window; closing them");
    d.server->close_all();
  }
  // Sessions cut off by close_all() still meter on their way out: a
  // `cancelled` row, their settle, their reply stored as partial. So the
  // stores' actors stop only after the last session.
  auto sessions_deadline = std::chrono::steady_clock::now() + 5s;
  while (d.ctx && d.ctx->live_sessions.load() > 0 && std::chrono::steady_clock::now() < sessions_deadline)
    std::this_thread::sleep_for(5ms);
  if (d.supervisor) caf::anon_send_exit(d.supervisor, caf::exit_reason::user_shutdown);
  // Each writes what it still holds before it stops (SIGTERM loses no row);
  // the loop below waits for them.
  for (auto& a : {caf::actor_cast<caf::actor>(d.ledger), caf::actor_cast<caf::actor>(d.quota),
                  caf::actor_cast<caf::actor>(d.conversations), caf::actor_cast<caf::actor>(d.journal)})
    if (a) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  // Sessions cut off by close_all() learn it through the I/O threads: keep
  // those running until every actor has stopped, so ~actor_system cannot hang.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (d.system->registry().running() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  d.io.stop();
  {
    std::lock_guard lock(d.mutex);
    d.stopped = true;
  }
  d.stopped_cv.notify_all();
}

void gateway::wait() {
  auto& d = *impl_;
  std::unique_lock lock(d.mutex);
  d.stopped_cv.wait(lock, [&] { return d.stopped; });
}

}  // namespace sb
