#pragma once
// A strict JSON reader over one text, for the few places that read facts
// straight from a JSON text instead of building a tree (openai_scan,
// chat_request_scan): values it is not told to look into are checked and
// skipped. Internal to providers/.

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace sb::providers::detail {

constexpr int max_depth = 64;

/// A strict JSON reader over one text that keeps nothing but what the caller
/// asks for: values it is not told to look into are checked and skipped.
class scanner {
 public:
  explicit scanner(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool ok() const { return ok_; }
  /// Where the scan is: after a value consumed, the byte past its end.
  const char* pos() const { return p_; }
  /// In an object's on_member: where the member's key (its opening quote) starts.
  const char* key_start() const { return key_start_; }
  bool at_end() {
    ws();
    return p_ == end_;
  }
  char peek() {
    ws();
    return p_ == end_ ? '\0' : *p_;
  }

  /// Calls on_member(key, *this) for each member; the callback must consume
  /// the value (a read_* or skip()). Keys with escapes are decoded.
  template <class F>
  void object(F&& on_member) {
    if (!enter('{')) return;
    if (peek() == '}') return leave();
    std::string decoded;  // only for a key with escapes
    while (ok_) {
      if (peek() != '"') return fail();
      key_start_ = p_;
      std::string_view key = plain_key();
      if (key.data() == nullptr) {
        decoded.clear();
        string_into(&decoded, nullptr);
        key = decoded;
      }
      if (!ok_ || peek() != ':') return fail();
      ++p_;
      on_member(key, *this);
      if (!ok_) return;
      char c = peek();
      if (c == ',') {
        ++p_;
        continue;
      }
      if (c == '}') return leave();
      return fail();
    }
  }

  /// Calls on_element(*this) for each element; the callback consumes it.
  template <class F>
  void array(F&& on_element) {
    if (!enter('[')) return;
    if (peek() == ']') return leave();
    while (ok_) {
      on_element(*this);
      if (!ok_) return;
      char c = peek();
      if (c == ',') {
        ++p_;
        continue;
      }
      if (c == ']') return leave();
      return fail();
    }
  }

  /// A string value: decoded into `out` (may be null) and its decoded length
  /// added to `length` (may be null). Anything else is skipped; false then.
  bool read_string(std::string* out, std::int64_t* length) {
    if (peek() != '"') {
      skip();
      return false;
    }
    string_into(out, length);
    return ok_;
  }

  /// An integer value (or a number with a zero fraction); anything else is
  /// skipped and gives nullopt.
  std::optional<std::int64_t> read_integer() {
    char c = peek();
    if (c == '"') {  // some providers send counts as strings
      std::string digits;
      string_into(&digits, nullptr);
      std::int64_t v = 0;
      auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (!ok_ || r.ec != std::errc() || r.ptr != digits.data() + digits.size()) return std::nullopt;
      return v;
    }
    if (c != '-' && (c < '0' || c > '9')) {
      skip();
      return std::nullopt;
    }
    const char* start = p_;
    number();
    if (!ok_) return std::nullopt;
    std::int64_t v = 0;
    bool negative = *start == '-';
    for (const char* q = start + (negative ? 1 : 0); q < p_ && *q >= '0' && *q <= '9'; ++q) {
      if (v > (INT64_MAX - 9) / 10) return std::nullopt;  // absurd: not a count
      v = v * 10 + (*q - '0');
    }
    return negative ? -v : v;
  }

  bool is_null() {
    if (peek() == 'n') {
      literal("null");
      return true;
    }
    return false;
  }

  void skip() {
    switch (peek()) {
      case '{':
        return object([](std::string_view, scanner& s) { s.skip(); });
      case '[':
        return array([](scanner& s) { s.skip(); });
      case '"':
        return string_into(nullptr, nullptr);
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }

 private:
  void fail() { ok_ = false; }

  void ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool enter(char open) {
    if (peek() != open || ++depth_ > max_depth) {
      fail();
      return false;
    }
    ++p_;
    return true;
  }
  void leave() {
    ++p_;
    --depth_;
  }

  void literal(const char* word) {
    auto n = std::strlen(word);
    if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return fail();
    p_ += n;
  }

  void number() {
    const char* q = p_;
    if (q != end_ && *q == '-') ++q;
    if (q == end_) return fail();
    if (*q == '0') {
      ++q;
    } else if (*q >= '1' && *q <= '9') {
      while (q != end_ && *q >= '0' && *q <= '9') ++q;
    } else {
      return fail();
    }
    if (q != end_ && *q == '.') {
      ++q;
      if (q == end_ || *q < '0' || *q > '9') return fail();
      while (q != end_ && *q >= '0' && *q <= '9') ++q;
    }
    if (q != end_ && (*q == 'e' || *q == 'E')) {
      ++q;
      if (q != end_ && (*q == '+' || *q == '-')) ++q;
      if (q == end_ || *q < '0' || *q > '9') return fail();
      while (q != end_ && *q >= '0' && *q <= '9') ++q;
    }
    p_ = q;
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool code_unit(unsigned& u) {
    if (end_ - p_ < 4) return false;
    u = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex(p_[i]);
      if (h < 0) return false;
      u = u * 16 + static_cast<unsigned>(h);
    }
    p_ += 4;
    return true;
  }
  static void append_utf8(std::string* out, std::int64_t* length, unsigned cp) {
    char buf[4];
    int n;
    if (cp < 0x80) {
      buf[0] = static_cast<char>(cp);
      n = 1;
    } else if (cp < 0x800) {
      buf[0] = static_cast<char>(0xC0 | (cp >> 6));
      buf[1] = static_cast<char>(0x80 | (cp & 0x3F));
      n = 2;
    } else if (cp < 0x10000) {
      buf[0] = static_cast<char>(0xE0 | (cp >> 12));
      buf[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      buf[2] = static_cast<char>(0x80 | (cp & 0x3F));
      n = 3;
    } else {
      buf[0] = static_cast<char>(0xF0 | (cp >> 18));
      buf[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      buf[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      buf[3] = static_cast<char>(0x80 | (cp & 0x3F));
      n = 4;
    }
    if (out) out->append(buf, static_cast<std::size_t>(n));
    if (length) *length += n;
  }

  /// At a '"': reads the string to its closing quote. Control characters
  /// must be escaped (as JSON says); UTF-8 is passed through unchecked.
  void string_into(std::string* out, std::int64_t* length) {
    ++p_;
    while (true) {
      const char* run = p_;
      while (p_ != end_ && !special(*p_)) ++p_;
      if (out) out->append(run, static_cast<std::size_t>(p_ - run));
      if (length) *length += p_ - run;
      if (p_ == end_ || static_cast<unsigned char>(*p_) < 0x20) return fail();
      if (*p_ == '"') {
        ++p_;
        return;
      }
      ++p_;  // the backslash
      if (p_ == end_) return fail();
      char e = *p_++;
      char plain;
      switch (e) {
        case '"': plain = '"'; break;
        case '\\': plain = '\\'; break;
        case '/': plain = '/'; break;
        case 'b': plain = '\b'; break;
        case 'f': plain = '\f'; break;
        case 'n': plain = '\n'; break;
        case 'r': plain = '\r'; break;
        case 't': plain = '\t'; break;
        case 'u': {
          unsigned u;
          if (!code_unit(u)) return fail();
          if (u >= 0xD800 && u <= 0xDBFF) {
            unsigned low;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return fail();
            p_ += 2;
            if (!code_unit(low) || low < 0xDC00 || low > 0xDFFF) return fail();
            u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
          } else if (u >= 0xDC00 && u <= 0xDFFF) {
            return fail();
          }
          append_utf8(out, length, u);
          continue;
        }
        default:
          return fail();
      }
      if (out) out->push_back(plain);
      if (length) ++*length;
    }
  }

  /// At a key's '"': the key in place when it has no escape (almost every
  /// key), the scan past its closing quote; else a null view and the scan
  /// where it was (the caller decodes it). Copying every key cost a
  /// stream's chunks more than the rest of their scan.
  std::string_view plain_key() {
    const char* start = p_ + 1;
    const char* q = start;
    while (q != end_ && !special(*q)) ++q;
    if (q == end_ || *q != '"') return {};
    p_ = q + 1;
    return {start, static_cast<std::size_t>(q - start)};
  }

  /// A byte that ends a string's plain run: '"', '\\' or a control character.
  static bool special(char c) {
    static constexpr auto table = [] {
      std::array<bool, 256> t{};
      for (int i = 0; i < 0x20; ++i) t[static_cast<std::size_t>(i)] = true;
      t['"'] = t['\\'] = true;
      return t;
    }();
    return table[static_cast<unsigned char>(c)];
  }

  const char* p_;
  const char* end_;
  const char* key_start_ = nullptr;
  int depth_ = 0;
  bool ok_ = true;
};

}  // namespace sb::providers::detail
