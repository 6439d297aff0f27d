#pragma once
// The conversation store, once, over sql_connection: the same SQL runs on
// SQLite (sqlite_connection) and PostgreSQL (postgres_connection), so the two
// backends cannot drift apart. Each write is one transaction; a message's
// seq comes from its conversation's last_seq, bumped under the row's lock.

#include <memory>

#include "cluster/conversation_store.hpp"
#include "cluster/sql_connection.hpp"

namespace sb::cluster {

class sql_conversation_store final : public conversation_store {
 public:
  /// `db` must already carry the schema (open_conversation_store migrates).
  explicit sql_conversation_store(std::unique_ptr<sql_connection> db);

  store_status append_user_message(const message_key& key, const std::string& content,
                                   const std::string& request_id) override;
  store_status start_assistant_message(const message_key& key, const message_origin& origin,
                                       const std::string& initial_content) override;
  store_status update_assistant_content(const message_key& key, const std::string& content,
                                        message_status status) override;
  store_result<std::optional<conversation_record>> get_conversation(
      const std::string& workspace_id, const std::string& conversation_id) override;
  store_result<std::optional<stored_message>> get_message(const message_key& key) override;
  store_status ping() override { return db_->ping(); }
  [[nodiscard]] const char* backend() const override { return db_->backend(); }

 private:
  /// What insert_message found: a new row, or the one already stored.
  enum class inserted : bool { added, existed };
  /// In one transaction: creates the conversation if new, takes the next seq
  /// and inserts `m` — unless the message id is already stored.
  store_result<inserted> insert_message(const message_key& key, const stored_message& m);

  std::unique_ptr<sql_connection> db_;
};

}  // namespace sb::cluster
