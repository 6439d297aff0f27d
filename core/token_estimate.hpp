#pragma once
// Token counts when the provider gives none: for reserving against a cap
// before the call, and for a stream cut short without a usage report. A
// tokenizer per model would be exact but is not packaged; ~4 characters per
// token is the common rule of thumb for English text, and a cap reservation
// is settled to the provider's real count whenever it reports one.

#include <cstdint>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace sb {

/// Tokens for a piece of text (at least 1 for non-empty text).
std::int64_t estimate_tokens(std::string_view text);
std::int64_t estimate_tokens_from_chars(std::int64_t chars);

/// The prompt of an OpenAI chat request: every message's text (string or
/// parts) plus a few tokens of framing per message, plus the tool definitions.
std::int64_t estimate_prompt_tokens(const nlohmann::json& request);
/// The same from counts already taken (a scan of the request's text).
std::int64_t estimate_prompt_tokens(std::int64_t chars, std::int64_t messages);

}  // namespace sb
