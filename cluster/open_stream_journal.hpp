#pragma once
// REDIS_URL -> the stream journal: no REDIS_URL, the in-process journal (a
// reattach must come back to this node); else the Redis one (any node).

#include <string>

#include "cluster/stream_journal.hpp"

namespace sb::cluster {

/// Fails only on a bad URL; nothing connects yet (a Redis that is down costs
/// the journal's calls an `unavailable`, not the gateway its start).
store_result<stream_journal_factory> open_stream_journal(const std::string& redis_url,
                                                         stream_journal_options options = {});

}  // namespace sb::cluster
