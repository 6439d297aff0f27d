#pragma once
// What every session reads and nobody changes while it runs: the config
// snapshot, one adapter per provider, the shared upstream client, the
// provider directory and the metrics.

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "actors/conversation_messages.hpp"
#include "actors/ledger_inbox.hpp"
#include "actors/metering_messages.hpp"
#include "actors/provider_directory.hpp"
#include "cluster/price_table.hpp"
#include "core/config.hpp"
#include "providers/adapter.hpp"

namespace sb {
class gateway_metrics;
}
namespace sb::net {
class upstream_client;
}

namespace sb::actors {

struct provider_entry {
  const provider_config* config = nullptr;
  std::unique_ptr<providers::adapter> adapter;
};

struct gateway_context {
  std::shared_ptr<const gateway_config> config;
  std::map<std::string, provider_entry> providers;  // by provider id
  provider_directory* directory = nullptr;
  net::upstream_client* upstream = nullptr;
  gateway_metrics* metrics = nullptr;
  ledger_actor ledger;         // one row per upstream call
  /// When set, sessions put their rows here rather than send them (no
  /// wake-up of the ledger's thread per call); `ledger` takes them.
  std::shared_ptr<ledger_inbox> ledger_rows;
  quota_actor quota;           // reserve before, settle after
  conversation_actor conversations;  // SPEC 7: X-Conversation-Id logs here (null: not logged)
  journal_writer_actor journal;      // SPEC 7: every SSE event of a logged stream, for reattach
  /// Bytes a streaming client may leave unread before the session drops it
  /// (back-pressure, SPEC 7 / issue 6).
  std::size_t max_stream_backlog_bytes = 1u << 20;
  /// Sessions alive: the drain stops the conversation and journal actors
  /// only after the last one has sent its final writes.
  mutable std::atomic<int> live_sessions{0};
  cluster::price_table prices;

  [[nodiscard]] const provider_entry* provider(const std::string& id) const {
    auto i = providers.find(id);
    return i == providers.end() ? nullptr : &i->second;
  }
};

/// Builds the adapters for every configured provider of `cfg` and the price
/// table; the caller fills in the actors.
std::shared_ptr<gateway_context> make_gateway_context(std::shared_ptr<const gateway_config> cfg,
                                                      provider_directory* directory,
                                                      net::upstream_client* upstream,
                                                      gateway_metrics* metrics);

}  // namespace sb::actors
