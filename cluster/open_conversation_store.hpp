#pragma once
// DATABASE_URL -> the conversation store, in the ledger's database (the
// same URL forms as open_ledger_store: "", a path, sqlite://, postgresql://).

#include <memory>
#include <string>

#include "cluster/conversation_store.hpp"

namespace sb::cluster {

/// Brings the schema up to date through open_ledger_store (the one migration
/// path: the conversation tables are ledger migrations), then opens the
/// store's own connection. One connection: one owner thread.
store_result<std::shared_ptr<conversation_store>> open_conversation_store(
    const std::string& database_url);

}  // namespace sb::cluster
