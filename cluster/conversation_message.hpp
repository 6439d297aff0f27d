#pragma once
// What a conversation log holds (SPEC section 7): the values shared by the
// conversation store, the stream journal and the actors that drive them.
// A conversation belongs to one workspace; every lookup names the workspace,
// so an id known in another workspace never reads or writes this one's rows.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster/store_error.hpp"

namespace sb::cluster {

enum class message_role : std::uint8_t { user, assistant };
const char* to_string(message_role r);
std::optional<message_role> parse_message_role(const std::string& s);

/// complete: the reply ended normally. partial: it stopped early (client
/// gone, upstream failure, cancel) and may be resumed. in_progress: still
/// streaming, or its node died before the end (see updated_at_ms).
enum class message_status : std::uint8_t { complete, partial, in_progress };
const char* to_string(message_status s);
std::optional<message_status> parse_message_status(const std::string& s);

/// Names one message, always inside its workspace and conversation.
struct message_key {
  std::string workspace_id;
  std::string conversation_id;
  std::string message_id;
};

/// Who produced an assistant message (empty until the cascade picked a target).
struct message_origin {
  std::string provider;
  std::string model;
  std::string request_id;
};

struct stored_message {
  std::string message_id;
  std::int64_t seq = 0;  // 1, 2, … in the order the messages were logged
  message_role role = message_role::user;
  std::string content;
  message_status status = message_status::complete;
  message_origin origin;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

struct conversation_record {
  std::string workspace_id;
  std::string conversation_id;
  std::int64_t created_at_ms = 0;
  std::vector<stored_message> messages;  // by seq
};

/// Ids are opaque text, but bounded: they land in keys, URLs and SSE ids.
constexpr std::size_t max_id_bytes = 256;

/// bad_input when an id is empty, longer than max_id_bytes, or (message_id
/// only) contains ':' — the SSE id is "<message_id>:<seq>".
store_status check_message_key(const message_key& key);
store_status check_conversation_id(const std::string& workspace_id,
                                   const std::string& conversation_id);

/// A fresh message id: "msg_" + 24 random hex digits.
std::string new_message_id();

}  // namespace sb::cluster
