#include "cluster/conversation_message.hpp"

#include <cstdio>
#include <random>

namespace sb::cluster {

const char* to_string(message_role r) {
  return r == message_role::user ? "user" : "assistant";
}

std::optional<message_role> parse_message_role(const std::string& s) {
  if (s == "user") return message_role::user;
  if (s == "assistant") return message_role::assistant;
  return std::nullopt;
}

const char* to_string(message_status s) {
  switch (s) {
    case message_status::complete: return "complete";
    case message_status::partial: return "partial";
    case message_status::in_progress: return "in_progress";
  }
  return "partial";
}

std::optional<message_status> parse_message_status(const std::string& s) {
  if (s == "complete") return message_status::complete;
  if (s == "partial") return message_status::partial;
  if (s == "in_progress") return message_status::in_progress;
  return std::nullopt;
}

namespace {

store_status check_id(const char* what, const std::string& id) {
  if (id.empty()) return make_store_error(store_errc::bad_input, std::string(what) + " is empty");
  if (id.size() > max_id_bytes)
    return make_store_error(store_errc::bad_input, std::string(what) + " is longer than " +
                                                       std::to_string(max_id_bytes) + " bytes");
  return std::nullopt;
}

}  // namespace

store_status check_conversation_id(const std::string& workspace_id,
                                   const std::string& conversation_id) {
  if (auto e = check_id("workspace id", workspace_id)) return e;
  return check_id("conversation id", conversation_id);
}

store_status check_message_key(const message_key& key) {
  if (auto e = check_conversation_id(key.workspace_id, key.conversation_id)) return e;
  if (auto e = check_id("message id", key.message_id)) return e;
  if (key.message_id.find(':') != std::string::npos)
    return make_store_error(store_errc::bad_input, "message id must not contain ':'");
  return std::nullopt;
}

std::string new_message_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[32];
  std::snprintf(buf, sizeof buf, "msg_%012llx%012llx",
                static_cast<unsigned long long>(rng() & 0xffffffffffffULL),
                static_cast<unsigned long long>(rng() & 0xffffffffffffULL));
  return buf;
}

}  // namespace sb::cluster
