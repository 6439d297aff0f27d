#include "providers/chat_request_scan.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "providers/json_scanner.hpp"

namespace sb::providers {
namespace {

using detail::scanner;

constexpr std::string_view roles[] = {"system", "developer", "user", "assistant", "tool", "function"};

/// Keys met so far in one object. A repeated key makes the request not
/// plain: nlohmann keeps the last value, and copying the text would keep both.
/// A request's objects have a few short keys: held inline (no allocation
/// for keys of up to 15 bytes), in a vector past that.
class key_set {
 public:
  /// false: seen before.
  bool add(std::string_view key) {
    auto inline_end = inline_.begin() + static_cast<std::ptrdiff_t>(std::min(count_, inline_.size()));
    if (std::find(inline_.begin(), inline_end, key) != inline_end) return false;
    if (std::find(more_.begin(), more_.end(), key) != more_.end()) return false;
    if (count_ < inline_.size())
      inline_[count_] = key;
    else
      more_.emplace_back(key);
    ++count_;
    return true;
  }

 private:
  std::array<std::string, 12> inline_;
  std::vector<std::string> more_;
  std::size_t count_ = 0;
};

/// The text of the next value, consumed.
std::string_view take_value(scanner& s) {
  s.peek();  // past white space
  const char* start = s.pos();
  s.skip();
  return {start, static_cast<std::size_t>(s.pos() - start)};
}

/// A JSON integer (no fraction, no exponent) of at least 1 that fits in 64
/// bits: what nlohmann reads as a positive integer.
std::optional<std::int64_t> positive_integer(std::string_view v) {
  std::int64_t n = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), n);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size() || n < 1) return std::nullopt;
  return n;
}

bool is_number(std::string_view v) { return !v.empty() && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')); }

/// `content`'s characters as text_chars counts them: a string's bytes, or the
/// `text` strings of an array's object parts.
bool scan_content(scanner& s, std::int64_t& chars) {
  char c = s.peek();
  if (c == '"') {
    s.read_string(nullptr, &chars);
    return true;
  }
  if (c != '[') {
    s.skip();
    return true;
  }
  bool plain = true;
  s.array([&](scanner& s) {
    if (s.peek() != '{') return s.skip();
    key_set keys;
    s.object([&](std::string_view key, scanner& s) {
      if (!keys.add(key)) plain = false;
      if (key == "text" && s.peek() == '"') {
        s.read_string(nullptr, &chars);
        return;
      }
      s.skip();
    });
  });
  return plain;
}

/// Every message an object with a known string role; no tool calls.
bool scan_messages(scanner& s, plain_chat_request& out) {
  if (s.peek() != '[') {
    s.skip();
    return false;
  }
  bool plain = true;
  s.array([&](scanner& s) {
    ++out.messages;
    if (s.peek() != '{') {
      plain = false;
      return s.skip();
    }
    key_set keys;
    bool known_role = false;
    s.object([&](std::string_view key, scanner& s) {
      if (!keys.add(key)) plain = false;
      if (key == "role" && s.peek() == '"') {
        std::string role;
        s.read_string(&role, nullptr);
        known_role = std::find(std::begin(roles), std::end(roles), role) != std::end(roles);
        return;
      }
      if (key == "content") {
        if (!scan_content(s, out.prompt_chars)) plain = false;
        return;
      }
      if (key == "tool_calls") plain = false;  // estimated from its serialised size
      s.skip();
    });
    if (!known_role) plain = false;
  });
  return plain && out.messages > 0;
}

bool scan_stream_options(scanner& s, plain_chat_request& out) {
  char c = s.peek();
  if (c == 'n') {
    s.skip();
    return true;
  }
  if (c != '{') {
    s.skip();
    return false;
  }
  bool plain = true;
  key_set keys;
  s.object([&](std::string_view key, scanner& s) {
    if (!keys.add(key)) plain = false;
    if (key != "include_usage") return s.skip();
    auto v = take_value(s);
    if (v == "true" || v == "false")
      out.include_usage = v == "true";
    else
      plain = false;  // the tree path words what is wrong with it
  });
  return plain;
}

}  // namespace

bool valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    // Requests are mostly ASCII: eight bytes at a time while they are.
    if (end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, sizeof word);
      if ((word & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    if (*p < 0x80) {
      ++p;
      continue;
    }
    int extra;
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
    if (*p >= 0xC2 && *p <= 0xDF) {
      extra = 1;
    } else if (*p >= 0xE0 && *p <= 0xEF) {
      extra = 2;
      if (*p == 0xE0) lo = 0xA0;  // no overlong forms
      if (*p == 0xED) hi = 0x9F;  // no surrogates
    } else if (*p >= 0xF0 && *p <= 0xF4) {
      extra = 3;
      if (*p == 0xF0) lo = 0x90;  // no overlong forms
      if (*p == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (int i = 2; i <= extra; ++i)
      if (p[i] < 0x80 || p[i] > 0xBF) return false;
    p += extra + 1;
  }
  return true;
}

std::optional<plain_chat_request> scan_plain_chat_request(std::string_view text) {
  if (!valid_utf8(text)) return std::nullopt;
  scanner s(text);
  if (s.peek() != '{') return std::nullopt;
  plain_chat_request out;
  bool plain = true;
  bool messages_seen = false;
  key_set keys;
  s.object([&](std::string_view key, scanner& s) {
    if (!plain) return s.skip();  // the answer is known: just check the syntax
    if (!keys.add(key)) {
      plain = false;
      return s.skip();
    }
    char c = s.peek();
    if (key == "model") {
      if (c != '"') {
        plain = false;
        return s.skip();
      }
      s.read_string(&out.model, nullptr);
      if (out.model.empty()) plain = false;
      return;
    }
    if (key == "messages") {
      messages_seen = true;
      if (!scan_messages(s, out)) plain = false;
      return;
    }
    if (key == "stream_options") {
      if (!scan_stream_options(s, out)) plain = false;
      return;
    }
    if (key == "user" && c == '"') {
      s.read_string(&out.user, nullptr);
      return;
    }
    auto v = take_value(s);
    if (key == "stream") {
      if (v == "true" || v == "false")
        out.stream = v == "true";
      else if (v != "null")
        plain = false;
    } else if (key == "max_tokens" || key == "max_completion_tokens") {
      if (v == "null") return;
      auto n = positive_integer(v);
      if (!n) plain = false;
      else (key == "max_tokens" ? out.max_tokens : out.max_completion_tokens) = n;
    } else if (key == "temperature") {
      if (v == "null") return;
      // A JSON number is also strtod's; the text around it stops the parse.
      std::string number(v);
      double t = is_number(v) ? std::strtod(number.c_str(), nullptr) : -1;
      if (!(t >= 0 && t <= 2)) plain = false;
    } else if (key == "stop") {
      if (v != "null" && v[0] != '"' && v[0] != '[') plain = false;
    } else if (key == "tools" || key == "prompt" || key == "gateway_tools") {
      // tools are estimated from their serialised size; the other two the
      // gateway rewrites into the body.
      if (key != "tools" || v != "null") plain = false;
    }
  });
  if (!s.ok() || !s.at_end() || !plain || !messages_seen || out.model.empty()) return std::nullopt;
  return out;
}

}  // namespace sb::providers
