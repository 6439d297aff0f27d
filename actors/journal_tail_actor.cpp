#include "actors/journal_tail_actor.hpp"

#include "actors/metering_messages.hpp"

namespace sb::actors {

const char* to_string(journal_tail_end e) {
  switch (e) {
    case journal_tail_end::finished: return "finished";
    case journal_tail_end::unknown: return "unknown";
    case journal_tail_end::truncated: return "truncated";
    case journal_tail_end::failed: return "failed";
  }
  return "failed";
}

namespace {

using clock = std::chrono::steady_clock;

struct tail_state {
  std::shared_ptr<cluster::stream_journal> journal;
  std::uint64_t after = 0;
  bool seen_any = false;  // a stream that was there and vanished has expired
  int failures = 0;
  clock::time_point give_up_unknown{};
  static inline const char* name = "journal_tail";
};

caf::behavior tail_impl(caf::stateful_actor<tail_state>* self,
                        cluster::stream_journal_factory journals, std::string message_id,
                        std::uint64_t after_seq, journal_sink sink, journal_tail_options options) {
  auto& st = self->state;
  st.journal = journals();
  st.after = after_seq;
  st.give_up_unknown = clock::now() + options.start_timeout;
  auto end = [self, sink](journal_tail_result r) {
    if (sink.done) sink.done(std::move(r));
    self->quit();
  };
  self->send(self, tick_atom::value);
  return {
      [self, message_id, sink, options, end](tick_atom) {
        auto& st = self->state;
        if (sink.backlog_bytes && sink.backlog_bytes() > options.max_backlog_bytes) {
          self->delayed_send(self, options.backlog_pause, tick_atom::value);
          return;
        }
        auto r = st.journal->wait_for_more(message_id, st.after, options.poll, options.batch);
        if (!r) {
          if (++st.failures >= options.max_failures)
            return end({journal_tail_end::failed, {}, r.error().to_string()});
          self->delayed_send(self, options.retry_pause, tick_atom::value);
          return;
        }
        st.failures = 0;
        if (r->truncated) return end({journal_tail_end::truncated, {}, {}});
        if (r->state == cluster::journal_state::unknown &&
            (st.seen_any || clock::now() >= st.give_up_unknown))
          return end({journal_tail_end::unknown, {}, {}});
        if (r->state != cluster::journal_state::unknown) st.seen_any = true;
        if (!r->events.empty()) {
          st.after = r->events.back().seq;
          sink.deliver(std::move(r->events));
        }
        if (r->state == cluster::journal_state::finished)
          return end({journal_tail_end::finished, r->final_status, {}});
        self->send(self, tick_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_journal_tail(caf::actor_system& sys, cluster::stream_journal_factory journals,
                              std::string message_id, std::uint64_t after_seq, journal_sink sink,
                              journal_tail_options options) {
  return sys.spawn<caf::detached>(tail_impl, std::move(journals), std::move(message_id), after_seq,
                                  std::move(sink), options);
}

}  // namespace sb::actors
