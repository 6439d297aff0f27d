#include "actors/conversation_actor.hpp"

namespace sb::actors {
namespace {

using cluster::conversation_writer;

struct conversation_state {
  std::shared_ptr<conversation_writer> writer;
  std::optional<conversation_writer::clock::time_point> tick_at;  // the armed timer
  static inline const char* name = "conversation";
};

conversation_stats stats_of(const conversation_writer& w) {
  const auto& c = w.counters();
  return {w.pending(), c.writes, c.failed_writes, c.dropped, c.last_error};
}

conversation_actor::behavior_type conversation_impl(
    conversation_actor::stateful_pointer<conversation_state> self,
    std::shared_ptr<conversation_writer> writer, std::chrono::milliseconds drain_timeout) {
  self->state.writer = writer;
  // As the ledger actor: the exit request is a message behind the writes
  // sent before it; write them, then stop.
  self->set_exit_handler([self, writer, drain_timeout](caf::exit_msg& msg) {
    writer->drain(conversation_writer::clock::now() + drain_timeout);
    self->quit(msg.reason);
  });
  self->attach_functor([writer, drain_timeout](const caf::error&) {
    if (writer->pending() > 0) writer->drain(conversation_writer::clock::now() + drain_timeout);
  });

  // One timer for all replies, armed for the earliest write due; a later
  // one that is already armed is replaced only when an earlier one is due.
  auto arm = [self] {
    auto& st = self->state;
    auto due = st.writer->next_due();
    if (!due || (st.tick_at && *st.tick_at <= *due)) return;
    st.tick_at = due;
    auto now = conversation_writer::clock::now();
    auto delay = *due > now ? std::chrono::duration_cast<std::chrono::milliseconds>(*due - now) +
                                  std::chrono::milliseconds(1)
                            : std::chrono::milliseconds(0);
    self->delayed_send(self, delay, tick_atom::value);
  };
  auto now = [] { return conversation_writer::clock::now(); };
  return {
      [self, arm, now](conv_user_atom, cluster::message_key& key, std::string& content,
                       std::string& request_id) {
        self->state.writer->log_user(key, std::move(content), std::move(request_id), now());
        arm();
      },
      [self, arm, now](conv_start_atom, cluster::message_key& key, cluster::message_origin& origin,
                       std::string& initial) {
        self->state.writer->start_reply(key, std::move(origin), std::move(initial), now());
        arm();
      },
      [self, arm, now](conv_delta_atom, const cluster::message_key& key, const std::string& text) {
        self->state.writer->add_text(key, text, now());
        arm();
      },
      [self, arm, now](conv_finish_atom, const cluster::message_key& key,
                       cluster::message_status status) {
        self->state.writer->finish_reply(key, status, now());
        arm();
      },
      [self, arm, now](tick_atom) {
        auto& st = self->state;
        // Several ticks may be in flight (re-armed earlier): all are harmless.
        if (st.tick_at && *st.tick_at <= now()) st.tick_at.reset();
        st.writer->persist(now());
        arm();
      },
      [self, arm, now](flush_atom) {
        self->state.writer->persist(now(), /*force=*/true);
        arm();
        return stats_of(*self->state.writer);
      },
      [self](conv_get_atom, const std::string& workspace, const std::string& conversation) {
        conversation_reply reply;
        auto& w = *self->state.writer;
        auto c = w.store().get_conversation(workspace, conversation);
        if (!c) reply.error = c.error();
        else if (c->has_value()) {
          w.overlay(**c);
          reply.conversation = std::move(*c);
        }
        return reply;
      },
      [self](conv_message_atom, const cluster::message_key& key) {
        message_reply reply;
        auto& w = *self->state.writer;
        auto m = w.store().get_message(key);
        if (!m) reply.error = m.error();
        else if (m->has_value()) {
          w.overlay(**m, key);
          reply.message = std::move(*m);
        }
        return reply;
      },
      [self](health_atom) {
        auto& store = self->state.writer->store();
        return store_health{store.ping(), store.backend()};
      },
  };
}

}  // namespace

conversation_actor spawn_conversation_actor(caf::actor_system& sys,
                                            std::shared_ptr<cluster::conversation_store> store,
                                            conversation_actor_options options) {
  auto writer = std::make_shared<conversation_writer>(std::move(store), options.writing);
  return sys.spawn<caf::detached>(conversation_impl, writer, options.drain_timeout);
}

}  // namespace sb::actors
