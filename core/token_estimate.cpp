#include "core/token_estimate.hpp"

#include <nlohmann/json.hpp>

namespace sb {
namespace {

constexpr std::int64_t chars_per_token = 4;
constexpr std::int64_t framing_tokens_per_message = 4;  // role and separators

std::int64_t text_chars(const nlohmann::json& content) {
  if (content.is_string()) return static_cast<std::int64_t>(content.get_ref<const std::string&>().size());
  std::int64_t n = 0;
  if (content.is_array())
    for (auto& part : content)
      if (part.is_object())
        if (auto t = part.find("text"); t != part.end() && t->is_string())
          n += static_cast<std::int64_t>(t->get_ref<const std::string&>().size());
  return n;
}

}  // namespace

std::int64_t estimate_tokens_from_chars(std::int64_t chars) {
  return chars <= 0 ? 0 : (chars + chars_per_token - 1) / chars_per_token;
}

std::int64_t estimate_tokens(std::string_view text) {
  return estimate_tokens_from_chars(static_cast<std::int64_t>(text.size()));
}

std::int64_t estimate_prompt_tokens(const nlohmann::json& request) {
  std::int64_t chars = 0, messages = 0;
  if (auto m = request.find("messages"); m != request.end() && m->is_array()) {
    for (auto& msg : *m) {
      ++messages;
      if (!msg.is_object()) continue;
      if (auto c = msg.find("content"); c != msg.end()) chars += text_chars(*c);
      if (auto calls = msg.find("tool_calls"); calls != msg.end())
        chars += static_cast<std::int64_t>(calls->dump().size());
    }
  }
  if (auto t = request.find("tools"); t != request.end() && t->is_array())
    chars += static_cast<std::int64_t>(t->dump().size());
  return estimate_prompt_tokens(chars, messages);
}

std::int64_t estimate_prompt_tokens(std::int64_t chars, std::int64_t messages) {
  return estimate_tokens_from_chars(chars) + framing_tokens_per_message * messages;
}

}  // namespace sb
