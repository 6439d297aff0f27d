#pragma once
// Reads the few facts the gateway needs from an OpenAI-format answer or
// stream chunk straight from its text, without building a JSON tree: a chunk
// is relayed byte for byte, so a tree per chunk was pure cost (the largest
// of a stream's; bench/RESULTS.md). The scan still checks the whole text is
// one valid JSON object, as a parse would. The same scanner splits a client's
// request into its members, so that they can be relayed as written.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/adapter.hpp"

namespace sb::providers {

/// What an OpenAI chat.completion(.chunk) says, for relaying and metering.
struct openai_facts {
  bool has_error = false;         // an `error` member: a failure, parse it
  bool usage_member = false;      // a `usage` member, whatever its value
  bool has_usage = false;         // a `usage` object
  token_usage usage;              // when has_usage
  bool choices_array = false;     // `choices` is an array
  std::size_t choices = 0;        // its length
  std::size_t messages = 0;       // choices with a `message` object (an answer's)
  bool tool_calls = false;        // some choice's delta/message has a non-empty tool_calls
  bool first_tool_calls = false;  // the first choice's does
  std::int64_t created = 0;       // 0: absent or not a positive integer
  chunk_facts chunk;              // the relay's facts (see adapter.hpp); `text`
                                  // is the first choice's delta or message content
};

/// nullopt: `text` is not one JSON object (or nests deeper than 64).
std::optional<openai_facts> scan_openai(std::string_view text);

/// One member of a JSON object, as its text wrote it.
struct json_member {
  std::string key;         // unescaped
  std::string_view value;  // the value's text, exactly
  std::string_view text;   // the whole member: the key's opening quote to the value's end
};

/// The members of the object `text`, in the text's order, repeated keys
/// included: so that a request can be relayed as written rather than
/// re-serialised. Every value is checked as scan_openai checks a text;
/// nullopt when `text` is not one valid JSON object (or nests deeper than 64).
std::optional<std::vector<json_member>> object_members(std::string_view text);

}  // namespace sb::providers
