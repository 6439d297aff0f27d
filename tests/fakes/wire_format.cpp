#include "tests/fakes/wire_format.hpp"

namespace sb::fakes {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

const char* wire_format_name(wire_format format) {
  switch (format) {
    case wire_format::openai: return "openai";
    case wire_format::anthropic: return "anthropic";
    case wire_format::gemini: return "gemini";
  }
  return "openai";
}

std::optional<wire_format> wire_format_from_name(std::string_view name) {
  if (name == "openai" || name == "openrouter" || name == "deepseek" || name == "huggingface")
    return wire_format::openai;
  if (name == "anthropic") return wire_format::anthropic;
  if (name == "gemini" || name == "google") return wire_format::gemini;
  return std::nullopt;
}

std::optional<wire_format> wire_format_of_target(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (ends_with(path, "/chat/completions")) return wire_format::openai;
  if (ends_with(path, "/v1/messages")) return wire_format::anthropic;
  if (path.find("/v1beta/models/") != std::string_view::npos &&
      (ends_with(path, ":generateContent") || ends_with(path, ":streamGenerateContent")))
    return wire_format::gemini;
  return std::nullopt;
}

}  // namespace sb::fakes
