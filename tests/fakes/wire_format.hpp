#pragma once
// The three provider wire formats the fake speaks, and how a request path
// selects one. Suffix matching lets a test put any prefix in a base URL
// (e.g. OpenRouter's "/api/v1") and still reach the right format.

#include <optional>
#include <string_view>

namespace sb::fakes {

enum class wire_format { openai, anthropic, gemini };

// "openai" | "anthropic" | "gemini"
const char* wire_format_name(wire_format format);

// Accepts the format names and the provider ids of SPEC section 2
// (openrouter, deepseek, huggingface -> openai; google -> gemini).
std::optional<wire_format> wire_format_from_name(std::string_view name);

// The format a request target (path + optional query) is addressed to, if any.
std::optional<wire_format> wire_format_of_target(std::string_view target);

}  // namespace sb::fakes
