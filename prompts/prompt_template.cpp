#include "prompts/prompt_template.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace sb::prompts {

namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string position_of(std::string_view text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Offset of the first byte that breaks UTF-8 (overlongs, surrogates and
// code points above U+10FFFF included), or npos when `text` is valid.
std::size_t first_invalid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    unsigned low = 0x80, high = 0xBF;  // the allowed range of the second byte
    if (byte < 0x80) {
      ++i;
      continue;
    } else if (byte >= 0xC2 && byte <= 0xDF) {
      length = 2;
    } else if (byte >= 0xE0 && byte <= 0xEF) {
      length = 3;
      if (byte == 0xE0) low = 0xA0;
      if (byte == 0xED) high = 0x9F;
    } else if (byte >= 0xF0 && byte <= 0xF4) {
      length = 4;
      if (byte == 0xF0) low = 0x90;
      if (byte == 0xF4) high = 0x8F;
    } else {
      return i;
    }
    if (i + length > text.size()) return i;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      const unsigned lo = k == 1 ? low : 0x80, hi = k == 1 ? high : 0xBF;
      if (next < lo || next > hi) return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

std::string joined(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

result<prompt_template> prompt_template::parse(std::string_view text) {
  if (auto bad = first_invalid_utf8(text); bad != std::string_view::npos)
    return prompt_error{prompt_error_kind::invalid_files,
                        position_of(text, bad) + ": not valid UTF-8", ""};
  prompt_template t;
  t.source_ = std::string(text);
  std::string literal;
  auto flush_literal = [&] {
    if (!literal.empty()) t.segments_.push_back({false, std::move(literal)});
    literal.clear();
  };

  std::size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 2, "{{") != 0) {
      literal += text[i++];
      continue;
    }
    if (text.compare(i, 4, "{{{{") == 0) {  // the escape for a literal "{{"
      literal += "{{";
      i += 4;
      continue;
    }
    const std::size_t open = i;
    std::size_t j = i + 2;
    while (j < text.size() && is_blank(text[j])) ++j;
    const std::size_t name_begin = j;
    if (j < text.size() && is_name_start(text[j]))
      while (j < text.size() && is_name_char(text[j])) ++j;
    const std::size_t name_end = j;
    while (j < text.size() && is_blank(text[j])) ++j;
    if (name_end == name_begin || text.compare(j, 2, "}}") != 0)
      return prompt_error{prompt_error_kind::invalid_files,
                          position_of(text, open) +
                              ": \"{{\" does not open a placeholder such as {{name}} "
                              "(write {{{{ for a literal \"{{\")",
                          ""};
    std::string name(text.substr(name_begin, name_end - name_begin));
    flush_literal();
    if (std::find(t.variables_.begin(), t.variables_.end(), name) == t.variables_.end())
      t.variables_.push_back(name);
    t.segments_.push_back({true, std::move(name)});
    i = j + 2;
  }
  flush_literal();
  return t;
}

result<std::string> prompt_template::render(const nlohmann::json& values) const {
  static const nlohmann::json no_values = nlohmann::json::object();
  const nlohmann::json& given = values.is_null() ? no_values : values;
  if (!given.is_object())
    return prompt_error{prompt_error_kind::invalid_variable,
                        "prompt variables must be a JSON object, got " +
                            std::string(given.type_name()),
                        ""};

  for (const auto& name : variables_)
    if (!given.contains(name))
      return prompt_error{prompt_error_kind::missing_variable,
                          "missing prompt variable '" + name + "' (the prompt uses: " +
                              joined(variables_) + ")",
                          name};
  for (const auto& [name, value] : given.items()) {
    if (std::find(variables_.begin(), variables_.end(), name) == variables_.end())
      return prompt_error{prompt_error_kind::unknown_variable,
                          "unknown prompt variable '" + name + "' (the prompt uses: " +
                              joined(variables_) + ")",
                          name};
    if (!value.is_string() && !value.is_number() && !value.is_boolean())
      return prompt_error{prompt_error_kind::invalid_variable,
                          "prompt variable '" + name +
                              "' must be a string, number or boolean, got " +
                              std::string(value.type_name()),
                          name};
  }

  std::string out;
  for (const auto& s : segments_) {
    if (!s.is_variable) {
      out += s.text;
      continue;
    }
    const auto& value = given.at(s.text);  // present: checked above
    out += value.is_string() ? value.get_ref<const std::string&>() : value.dump();
  }
  return out;
}

}  // namespace sb::prompts
