#include "actors/ledger_actor.hpp"

namespace sb::actors {
namespace {

using cluster::ledger_batcher;

struct ledger_state {
  std::shared_ptr<ledger_batcher> batcher;
  std::shared_ptr<ledger_inbox> inbox;  // may be null: rows come as messages only
  bool tick_pending = false;
  static inline const char* name = "ledger";
};

ledger_stats stats_of(const ledger_batcher& b) {
  const auto& c = b.counters();
  return {c.buffered.load(), c.written.load(), c.dropped.load(), c.failed_flushes.load(),
          b.last_error()};
}

/// Moves the inbox's rows into the batcher, behind those already there.
void absorb(ledger_batcher& b, ledger_inbox* inbox) {
  if (!inbox) return;
  auto rows = inbox->take();
  if (!rows.empty()) b.add(std::move(rows));
}

ledger_actor::behavior_type ledger_impl(ledger_actor::stateful_pointer<ledger_state> self,
                                        std::shared_ptr<ledger_batcher> batcher,
                                        std::shared_ptr<ledger_inbox> inbox,
                                        std::chrono::milliseconds drain_timeout) {
  self->state.batcher = batcher;
  self->state.inbox = inbox;
  // The exit request (SIGTERM's path) is an ordinary message, behind the
  // rows sent before it: drain, then stop, so whoever waits for our end
  // (monitor, wait_for) sees the rows written.
  self->set_exit_handler([self, batcher, inbox, drain_timeout](caf::exit_msg& msg) {
    absorb(*batcher, inbox.get());
    batcher->drain(ledger_batcher::clock::now() + drain_timeout);
    self->quit(msg.reason);
  });
  // Backstop for any other end (an error, the system going down). Owns the
  // batcher, so it does not depend on the state's lifetime.
  self->attach_functor([batcher, inbox, drain_timeout](const caf::error&) {
    absorb(*batcher, inbox.get());
    if (batcher->buffered() > 0) batcher->drain(ledger_batcher::clock::now() + drain_timeout);
  });

  auto arm = [self] {
    auto& st = self->state;
    if (st.tick_pending) return;
    if (st.batcher->buffered() == 0 && (!st.inbox || st.inbox->size() == 0)) return;
    st.tick_pending = true;
    self->delayed_send(self, st.batcher->next_delay(ledger_batcher::clock::now()), tick_atom::value);
  };
  // A nudge is an empty vector: rows wait in the inbox. Unless a batch is
  // full, they stay there until the tick, so the rows behind the first one
  // find the inbox non-empty and send nothing (ledger_inbox.hpp).
  auto take = [self, arm](std::vector<cluster::usage_row> rows) {
    auto& st = self->state;
    auto& b = *st.batcher;
    if (!rows.empty()) b.add(std::move(rows));
    else if (st.inbox && st.inbox->size() >= st.inbox->batch_rows()) absorb(b, st.inbox.get());
    auto now = ledger_batcher::clock::now();
    if (b.batch_full() && b.due(now)) b.flush(now);
    arm();
  };
  return {
      [take](append_atom, cluster::usage_row& row) {
        std::vector<cluster::usage_row> one;
        one.push_back(std::move(row));
        take(std::move(one));
      },
      [take](append_atom, std::vector<cluster::usage_row>& rows) { take(std::move(rows)); },
      [self, arm](tick_atom) {
        self->state.tick_pending = false;
        auto& b = *self->state.batcher;
        absorb(b, self->state.inbox.get());
        auto now = ledger_batcher::clock::now();
        if (b.due(now)) b.flush(now);
        arm();
      },
      [self, arm](flush_atom) {
        // An explicit flush ignores the backoff: the caller wants it now.
        auto& b = *self->state.batcher;
        absorb(b, self->state.inbox.get());
        b.flush(ledger_batcher::clock::now());
        arm();
        return stats_of(b);
      },
      [self](stats_atom) {
        absorb(*self->state.batcher, self->state.inbox.get());  // waiting rows count as buffered
        return stats_of(*self->state.batcher);
      },
      [self, arm](aggregate_atom, const std::string& workspace, const std::string& period) {
        auto& b = *self->state.batcher;
        absorb(b, self->state.inbox.get());
        b.flush(ledger_batcher::clock::now());  // read our own writes
        arm();
        usage_summary_reply reply;
        auto sum = b.store().aggregate(workspace, period);
        if (sum) reply.summary = std::move(*sum);
        else reply.error = sum.error();
        return reply;
      },
      [self, arm](events_atom, const std::string& workspace, const std::string& period) {
        auto& b = *self->state.batcher;
        absorb(b, self->state.inbox.get());
        b.flush(ledger_batcher::clock::now());
        arm();
        usage_events_reply reply;
        auto rows = b.store().events(workspace, period);
        if (rows) reply.rows = std::move(*rows);
        else reply.error = rows.error();
        return reply;
      },
      [self, arm](prompt_stats_atom, const std::string& workspace, const std::string& prompt,
                  const std::string& period) {
        auto& b = *self->state.batcher;
        absorb(b, self->state.inbox.get());
        b.flush(ledger_batcher::clock::now());  // stats must match the rows just written
        arm();
        prompt_stats_reply reply;
        auto lines = b.store().prompt_requests(workspace, prompt, period);
        if (lines) reply.versions = cluster::summarize_prompt_stats(*lines);
        else reply.error = lines.error();
        return reply;
      },
      [self, arm](feedback_atom, const cluster::feedback_record& f) {
        auto& b = *self->state.batcher;
        // The request's rows may still wait in the batch: write them first,
        // or feedback on a request answered a moment ago would be a 404.
        absorb(b, self->state.inbox.get());
        b.flush(ledger_batcher::clock::now());
        arm();
        feedback_reply reply;
        auto found = b.store().record_feedback(f);
        if (found) reply.found = *found;
        else reply.error = found.error();
        return reply;
      },
      [self](audit_atom, const cluster::tool_audit_record& rec) {
        return tool_audit_reply{self->state.batcher->store().record_tool_audit(rec)};
      },
      [self](audits_atom, const cluster::tool_audit_query& q) {
        tool_audits_reply reply;
        auto records = self->state.batcher->store().tool_audits(q);
        if (records) reply.records = std::move(*records);
        else reply.error = records.error();
        return reply;
      },
      [self](health_atom) {
        auto& store = self->state.batcher->store();
        return store_health{store.ping(), store.backend()};
      },
  };
}

}  // namespace

ledger_actor spawn_ledger_actor(caf::actor_system& sys, std::shared_ptr<cluster::ledger_store> store,
                                ledger_actor_options options,
                                std::shared_ptr<cluster::ledger_counters> counters) {
  auto batcher = std::make_shared<ledger_batcher>(std::move(store), options.batching,
                                                  std::move(counters));
  return sys.spawn<caf::detached>(ledger_impl, batcher, std::move(options.inbox), options.drain_timeout);
}

}  // namespace sb::actors
