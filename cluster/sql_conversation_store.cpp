#include "cluster/sql_conversation_store.hpp"

#include "cluster/billing_period.hpp"

namespace sb::cluster {
namespace {

const char* const ensure_conversation_sql =
    "INSERT INTO conversations (workspace_id, conversation_id, created_at_ms, last_seq)"
    " VALUES ($1, $2, $3, 0) ON CONFLICT (workspace_id, conversation_id) DO NOTHING";
const char* const bump_seq_sql =
    "UPDATE conversations SET last_seq = last_seq + 1"
    " WHERE workspace_id = $1 AND conversation_id = $2 RETURNING last_seq";
const char* const message_exists_sql =
    "SELECT seq FROM messages"
    " WHERE workspace_id = $1 AND conversation_id = $2 AND message_id = $3";
const char* const insert_message_sql =
    "INSERT INTO messages (workspace_id, conversation_id, message_id, seq, role, content,"
    " status, provider, model, request_id, created_at_ms, updated_at_ms)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)";
const char* const restart_assistant_sql =
    "UPDATE messages SET status = 'in_progress', provider = $4, model = $5, request_id = $6,"
    " content = CASE WHEN CAST($7 AS TEXT) = '' THEN content ELSE $7 END, updated_at_ms = $8"
    " WHERE workspace_id = $1 AND conversation_id = $2 AND message_id = $3"
    " AND role = 'assistant' RETURNING seq";
const char* const update_content_sql =
    "UPDATE messages SET content = $4, status = $5, updated_at_ms = $6"
    " WHERE workspace_id = $1 AND conversation_id = $2 AND message_id = $3"
    " AND role = 'assistant' RETURNING seq";
const char* const conversation_sql =
    "SELECT created_at_ms FROM conversations WHERE workspace_id = $1 AND conversation_id = $2";
#define SB_MESSAGE_COLUMNS \
  "message_id, seq, role, content, status, provider, model, request_id, created_at_ms," \
  " updated_at_ms"
const char* const messages_sql =
    "SELECT " SB_MESSAGE_COLUMNS " FROM messages"
    " WHERE workspace_id = $1 AND conversation_id = $2 ORDER BY seq";
const char* const message_sql =
    "SELECT " SB_MESSAGE_COLUMNS " FROM messages"
    " WHERE workspace_id = $1 AND conversation_id = $2 AND message_id = $3";
#undef SB_MESSAGE_COLUMNS

stored_message message_of(const sql_row& r) {
  stored_message m;
  m.message_id = r[0];
  m.seq = sql_int(r[1]);
  m.role = parse_message_role(r[2]).value_or(message_role::assistant);
  m.content = r[3];
  m.status = parse_message_status(r[4]).value_or(message_status::partial);
  m.origin = {r[5], r[6], r[7]};
  m.created_at_ms = sql_int(r[8]);
  m.updated_at_ms = sql_int(r[9]);
  return m;
}

std::vector<sql_value> key_params(const message_key& k) {
  return {k.workspace_id, k.conversation_id, k.message_id};
}

store_error no_assistant_message(const message_key& key) {
  return make_store_error(store_errc::bad_input,
                          "no assistant message " + key.message_id + " in conversation " +
                              key.conversation_id);
}

}  // namespace

sql_conversation_store::sql_conversation_store(std::unique_ptr<sql_connection> db)
    : db_(std::move(db)) {}

store_result<sql_conversation_store::inserted> sql_conversation_store::insert_message(
    const message_key& key, const stored_message& m) {
  if (auto e = db_->begin()) return *e;
  auto fail = [this](store_error e) -> store_result<inserted> {
    db_->rollback();
    return e;
  };
  const std::int64_t now = now_ms();
  if (auto r = db_->query(ensure_conversation_sql, {key.workspace_id, key.conversation_id, now});
      !r)
    return fail(r.error());
  // The bump comes first: it locks the conversation, so the existence check
  // below cannot race another writer of the same message id.
  auto seq = db_->query(bump_seq_sql, {key.workspace_id, key.conversation_id});
  if (!seq) return fail(seq.error());
  if (seq->empty()) return fail(make_store_error(store_errc::query_failed, "conversation vanished"));
  auto existing = db_->query(message_exists_sql, key_params(key));
  if (!existing) return fail(existing.error());
  if (!existing->empty()) {
    db_->rollback();  // also undoes the bump: seqs stay dense
    return inserted::existed;
  }
  auto r = db_->query(insert_message_sql,
                      {key.workspace_id, key.conversation_id, key.message_id,
                       sql_int(seq->front()[0]), std::string(to_string(m.role)), m.content,
                       std::string(to_string(m.status)), m.origin.provider, m.origin.model,
                       m.origin.request_id, now});
  if (!r) return fail(r.error());
  if (auto e = db_->commit()) return fail(*e);
  return inserted::added;
}

store_status sql_conversation_store::append_user_message(const message_key& key,
                                                         const std::string& content,
                                                         const std::string& request_id) {
  if (auto e = check_message_key(key)) return e;
  stored_message m;
  m.role = message_role::user;
  m.content = content;
  m.status = message_status::complete;
  m.origin.request_id = request_id;
  auto r = insert_message(key, m);
  if (!r) return r.error();
  return std::nullopt;  // already there: the first write stands
}

store_status sql_conversation_store::start_assistant_message(const message_key& key,
                                                             const message_origin& origin,
                                                             const std::string& initial_content) {
  if (auto e = check_message_key(key)) return e;
  stored_message m;
  m.role = message_role::assistant;
  m.content = initial_content;
  m.status = message_status::in_progress;
  m.origin = origin;
  auto r = insert_message(key, m);
  if (!r) return r.error();
  if (*r == inserted::added) return std::nullopt;
  auto params = key_params(key);
  params.insert(params.end(), {origin.provider, origin.model, origin.request_id, initial_content,
                               now_ms()});
  auto updated = db_->query(restart_assistant_sql, params);
  if (!updated) return updated.error();
  if (updated->empty()) return no_assistant_message(key);  // the id is a user message
  return std::nullopt;
}

store_status sql_conversation_store::update_assistant_content(const message_key& key,
                                                              const std::string& content,
                                                              message_status status) {
  if (auto e = check_message_key(key)) return e;
  auto params = key_params(key);
  params.insert(params.end(), {content, std::string(to_string(status)), now_ms()});
  auto updated = db_->query(update_content_sql, params);
  if (!updated) return updated.error();
  if (updated->empty()) return no_assistant_message(key);
  return std::nullopt;
}

store_result<std::optional<conversation_record>> sql_conversation_store::get_conversation(
    const std::string& workspace_id, const std::string& conversation_id) {
  if (auto e = check_conversation_id(workspace_id, conversation_id)) return *e;
  auto head = db_->query(conversation_sql, {workspace_id, conversation_id});
  if (!head) return head.error();
  if (head->empty()) return std::optional<conversation_record>();
  conversation_record c;
  c.workspace_id = workspace_id;
  c.conversation_id = conversation_id;
  c.created_at_ms = sql_int(head->front()[0]);
  auto rows = db_->query(messages_sql, {workspace_id, conversation_id});
  if (!rows) return rows.error();
  c.messages.reserve(rows->size());
  for (const auto& r : *rows) c.messages.push_back(message_of(r));
  return std::optional<conversation_record>(std::move(c));
}

store_result<std::optional<stored_message>> sql_conversation_store::get_message(
    const message_key& key) {
  if (auto e = check_message_key(key)) return *e;
  auto rows = db_->query(message_sql, key_params(key));
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<stored_message>();
  return std::optional<stored_message>(message_of(rows->front()));
}

}  // namespace sb::cluster
