#include "actors/journal_writer_actor.hpp"

namespace sb::actors {
namespace {

struct journal_writer_state {
  std::shared_ptr<cluster::stream_journal> journal;
  journal_writer_stats stats;
  static inline const char* name = "journal_writer";
};

journal_writer_actor::behavior_type journal_writer_impl(
    journal_writer_actor::stateful_pointer<journal_writer_state> self,
    std::shared_ptr<cluster::stream_journal> journal) {
  self->state.journal = std::move(journal);
  auto record = [self](const cluster::store_status& e) {
    auto& s = self->state.stats;
    if (!e) return true;
    ++s.failed;
    s.last_error = e->to_string();
    return false;
  };
  return {
      [self, record](journal_append_atom, const std::string& message_id, std::uint64_t seq,
                     const std::string& data) {
        if (record(self->state.journal->append(message_id, seq, data))) ++self->state.stats.appended;
      },
      [self, record](journal_finish_atom, const std::string& message_id,
                     cluster::message_status status) {
        record(self->state.journal->finish(message_id, status));
      },
      [self](flush_atom) { return self->state.stats; },
  };
}

}  // namespace

journal_writer_actor spawn_journal_writer(caf::actor_system& sys,
                                          std::shared_ptr<cluster::stream_journal> journal) {
  return sys.spawn<caf::detached>(journal_writer_impl, std::move(journal));
}

}  // namespace sb::actors
