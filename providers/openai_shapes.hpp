#pragma once
// The OpenAI chat shapes the client always sees, built in one place so the
// translating adapters (Anthropic, Gemini) spell them alike.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "providers/adapter.hpp"

namespace sb::providers {

/// {id, object: chat.completion.chunk, created, model, choices:[{index 0, delta, finish_reason}]}
nlohmann::json make_chunk(const std::string& id, std::int64_t created, const std::string& model,
                          nlohmann::json delta, const nlohmann::json& finish_reason = nullptr);

/// The last chunk of a stream whose client asked include_usage: `choices: []`.
nlohmann::json make_usage_chunk(const std::string& id, std::int64_t created,
                                const std::string& model, const token_usage& usage);

/// {prompt_tokens, completion_tokens, total_tokens}
nlohmann::json usage_object(const token_usage& usage);

/// A message's text whether `content` is a string, null or a list of parts
/// (text parts joined; other parts ignored).
std::string content_text(const nlohmann::json& content);

/// A tool call's `arguments` string as a JSON object: what Anthropic's `input`
/// and Gemini's `args` must be. Empty, invalid or non-object -> {}.
nlohmann::json arguments_object(const nlohmann::json& arguments);

/// max_completion_tokens, else max_tokens, when the client set one.
std::optional<std::int64_t> requested_max_tokens(const nlohmann::json& request);

/// `stop` as a list whether the client sent a string or a list.
nlohmann::json stop_list(const nlohmann::json& stop);

/// Reads a JSON number or numeric string as an integer; 0 otherwise.
std::int64_t as_int(const nlohmann::json& v);

/// obj[key] without copying, or a null when obj is no object or lacks key.
const nlohmann::json& member(const nlohmann::json& obj, const char* key);

/// Reads a string field, "" when absent or not a string.
std::string string_field(const nlohmann::json& obj, const char* key);

}  // namespace sb::providers
