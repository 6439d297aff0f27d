#pragma once
// Where conversations live: the ledger's database (SQLite or PostgreSQL, the
// same DATABASE_URL, the same numbered migrations in ledger_schema). Every
// write is an idempotent upsert keyed by (workspace, conversation, message),
// so a write retried after an unknown outcome never doubles a message.
//
// An instance holds one connection and is NOT thread-safe: one owner thread
// (the conversation actor), from open_conversation_store().

#include <optional>
#include <string>

#include "cluster/conversation_message.hpp"
#include "cluster/store_error.hpp"

namespace sb::cluster {

class conversation_store {
 public:
  virtual ~conversation_store() = default;

  /// Logs a user message (status complete), creating the conversation if it
  /// is new. A message_id already stored is left as it is: no-op.
  virtual store_status append_user_message(const message_key& key, const std::string& content,
                                           const std::string& request_id) = 0;

  /// Logs an assistant message as in_progress with `initial_content` (empty
  /// for a new reply), creating the conversation if it is new. On a message
  /// already stored (a resume, or a cascade that moved to another provider)
  /// it sets status in_progress and the origin, and keeps the content when
  /// `initial_content` is empty.
  virtual store_status start_assistant_message(const message_key& key,
                                               const message_origin& origin,
                                               const std::string& initial_content = {}) = 0;

  /// Replaces the assistant message's content by `content` (the full text so
  /// far) and its status. bad_input when no such assistant message exists
  /// (start_assistant_message was not called, or failed).
  virtual store_status update_assistant_content(const message_key& key,
                                                const std::string& content,
                                                message_status status) = 0;

  /// The conversation's messages by seq; nullopt when `workspace_id` has no
  /// conversation of that id (whether or not another workspace has one).
  virtual store_result<std::optional<conversation_record>> get_conversation(
      const std::string& workspace_id, const std::string& conversation_id) = 0;

  /// One message; nullopt when not in that workspace's conversation.
  virtual store_result<std::optional<stored_message>> get_message(const message_key& key) = 0;

  /// Reachable? Reconnects if the connection was lost.
  virtual store_status ping() = 0;
  /// "sqlite" or "postgresql", for logs.
  [[nodiscard]] virtual const char* backend() const = 0;
};

}  // namespace sb::cluster
