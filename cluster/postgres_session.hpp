#pragma once
// The PostgreSQL connection policy every store of ours shares (the ledger,
// the conversation store): connect and TCP-user timeouts, NOTICEs ignored, a
// statement timeout, one error shape, and a reconnect after a lost
// connection. Internal to cluster/: callers see stores, not libpq.

#include <string>

#include "cluster/store_error.hpp"

struct pg_conn;

namespace sb::cluster::postgres {

/// Connects to `url` (any libpq URI or key=value string); the caller owns the
/// connection (PQfinish). Fails when the server cannot be reached now.
store_result<pg_conn*> connect(const std::string& url);

/// `what` failed on `conn`: unavailable when the connection is gone (retry
/// later), query_failed otherwise. `detail` (may be null or empty) wins over
/// the connection's last message.
store_error error_of(pg_conn* conn, const std::string& what, const char* detail);

/// Runs a statement that returns no rows.
store_status exec(pg_conn* conn, const char* sql);

/// A lost connection is re-established (blocking, bounded by the connect
/// timeout) with its session settings; a live one is left alone.
store_status reconnect_if_lost(pg_conn* conn);

}  // namespace sb::cluster::postgres
