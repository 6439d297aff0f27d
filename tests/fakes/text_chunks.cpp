#include "tests/fakes/text_chunks.hpp"

#include <algorithm>
#include <cctype>

namespace sb::fakes {

namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Each word with the whitespace before it.
std::vector<std::string_view> words_with_leading_space(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    while (i < text.size() && !is_space(text[i])) ++i;
    out.push_back(text.substr(start, i - start));
    start = i;
  }
  return out;
}

std::vector<std::string_view> utf8_characters(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t len = 1;
    while (i + len < text.size() && (static_cast<unsigned char>(text[i + len]) & 0xC0) == 0x80) ++len;
    out.push_back(text.substr(i, len));
    i += len;
  }
  return out;
}

std::vector<std::string> group_evenly(const std::vector<std::string_view>& units, int n) {
  std::vector<std::string> out;
  const std::size_t total = units.size();
  for (int g = 0; g < n; ++g) {
    const std::size_t from = total * g / n;
    const std::size_t to = total * (g + 1) / n;
    std::string piece;
    for (std::size_t u = from; u < to; ++u) piece.append(units[u]);
    if (!piece.empty()) out.push_back(std::move(piece));
  }
  return out;
}

}  // namespace

std::vector<std::string> split_into_chunks(std::string_view text, int n) {
  if (text.empty()) return {};
  n = std::max(n, 1);
  auto words = words_with_leading_space(text);
  if (words.size() >= static_cast<std::size_t>(n)) return group_evenly(words, n);
  auto chars = utf8_characters(text);
  return group_evenly(chars, std::min<int>(n, static_cast<int>(chars.size())));
}

int count_words(std::string_view text) {
  int words = 0;
  bool in_word = false;
  for (char c : text) {
    if (is_space(c)) {
      in_word = false;
    } else if (!in_word) {
      in_word = true;
      ++words;
    }
  }
  return words;
}

}  // namespace sb::fakes
