#include "providers/openai_scan.hpp"

#include "providers/json_scanner.hpp"

namespace sb::providers {
namespace {

using detail::scanner;

/// A chunk's `delta` or an answer's `message`. Only the first choice decides
/// whether a chunk carries content (as the relay always did); characters are
/// counted over all choices.
void scan_message(scanner& s, bool first, openai_facts& f) {
  s.object([&](std::string_view key, scanner& s) {
    if (key == "content") {
      std::int64_t n = 0;
      s.read_string(first ? &f.chunk.text : nullptr, &n);
      f.chunk.content_chars += n;
      // Present but empty is no content (OpenAI's first chunk has "content": "").
      if (first && n > 0) f.chunk.content = true;
      return;
    }
    if (key == "refusal") {
      std::int64_t n = 0;
      s.read_string(nullptr, &n);
      if (first && n > 0) f.chunk.content = true;
      return;
    }
    if (key == "tool_calls") {
      if (s.peek() != '[') return s.skip();
      std::size_t calls = 0;
      s.array([&](scanner& s) {
        ++calls;
        if (s.peek() != '{') return s.skip();
        s.object([&](std::string_view key, scanner& s) {
          if (key != "function" || s.peek() != '{') return s.skip();
          s.object([&](std::string_view key, scanner& s) {
            if (key != "arguments") return s.skip();
            s.read_string(nullptr, &f.chunk.content_chars);
          });
        });
      });
      if (calls > 0) {
        f.tool_calls = true;
        if (first) f.chunk.content = f.first_tool_calls = true;
      }
      return;
    }
    s.skip();
  });
}

void scan_choice(scanner& s, bool first, openai_facts& f) {
  if (s.peek() != '{') return s.skip();
  bool message_seen = false;
  s.object([&](std::string_view key, scanner& s) {
    if ((key == "delta" || key == "message") && s.peek() == '{') {
      if (key == "message" && !message_seen) {
        message_seen = true;
        ++f.messages;
      }
      return scan_message(s, first, f);
    }
    if (key == "finish_reason") {
      if (!s.is_null()) {
        if (first) f.chunk.content = true;
        s.skip();
      }
      return;
    }
    s.skip();
  });
}

}  // namespace

std::optional<openai_facts> scan_openai(std::string_view text) {
  scanner s(text);
  openai_facts f;
  if (s.peek() != '{') return std::nullopt;
  s.object([&](std::string_view key, scanner& s) {
    if (key == "choices") {
      if (s.peek() != '[') return s.skip();
      f.choices_array = true;
      s.array([&](scanner& s) { scan_choice(s, f.choices++ == 0, f); });
      return;
    }
    if (key == "usage") {
      f.usage_member = true;
      if (s.peek() != '{') return s.skip();
      f.has_usage = true;
      f.usage.reported = true;
      s.object([&](std::string_view key, scanner& s) {
        if (key == "prompt_tokens") f.usage.prompt_tokens = s.read_integer().value_or(0);
        else if (key == "completion_tokens") f.usage.completion_tokens = s.read_integer().value_or(0);
        else s.skip();
      });
      return;
    }
    if (key == "error") {
      f.has_error = true;
      return s.skip();
    }
    if (key == "created") {
      auto v = s.read_integer();
      f.created = v && *v > 0 ? *v : 0;
      return;
    }
    s.skip();
  });
  if (!s.ok() || !s.at_end()) return std::nullopt;
  // No choices but a usage member (OpenAI's usage-only last chunk) is content.
  if (f.choices == 0 && f.usage_member) f.chunk.content = true;
  return f;
}

std::optional<std::vector<json_member>> object_members(std::string_view text) {
  scanner s(text);
  std::vector<json_member> members;
  members.reserve(8);  // a chat request's usual few: one allocation
  if (s.peek() != '{') return std::nullopt;
  s.object([&](std::string_view key, scanner& s) {
    const char* member = s.key_start();
    s.peek();  // past the white space, to the value's first byte
    const char* value = s.pos();
    s.skip();
    if (!s.ok()) return;
    auto end = s.pos();
    members.push_back({std::string(key), std::string_view(value, static_cast<std::size_t>(end - value)),
                       std::string_view(member, static_cast<std::size_t>(end - member))});
  });
  if (!s.ok() || !s.at_end()) return std::nullopt;
  return members;
}

}  // namespace sb::providers
