#include "cluster/stream_journal.hpp"

namespace sb::cluster {

const char* to_string(journal_state s) {
  switch (s) {
    case journal_state::unknown: return "unknown";
    case journal_state::live: return "live";
    case journal_state::finished: return "finished";
  }
  return "unknown";
}

}  // namespace sb::cluster
