#pragma once
// What the chat endpoint needs of a plain request, read straight from its
// text: no JSON tree is built for it (core/chat_body.hpp).
//
// "Plain" is deliberately narrow: the request passes every check the
// endpoint's validation makes, each object has one member per key, every
// string is valid UTF-8 (as nlohmann's parser requires), and it asks for
// nothing the gateway must rewrite or serialise: no `prompt`, no
// `gateway_tools`, no `tools`, no message with `tool_calls`. Anything else,
// valid or not, gets nullopt, and the endpoint parses the tree as before
// (which also words any error).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sb::providers {

struct plain_chat_request {
  std::string model;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::optional<std::int64_t> max_tokens;
  std::optional<std::int64_t> max_completion_tokens;
  std::string user;             // empty: none given
  std::int64_t prompt_chars = 0;  // as estimate_prompt_tokens counts them
  std::int64_t messages = 0;
};

std::optional<plain_chat_request> scan_plain_chat_request(std::string_view text);

/// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
/// U+10FFFF.
bool valid_utf8(std::string_view text);

}  // namespace sb::providers
