#pragma once
// What the fake needs to know about a provider request, whatever its format,
// and the content it decided to answer with.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/scripted_reply.hpp"

namespace sb::fakes {

struct chat_request {
  std::string model;
  bool stream = false;
  bool include_usage = false;  // OpenAI stream_options.include_usage
  bool gemini_sse = false;     // Gemini stream path with alt=sse (else a JSON array)
  bool offers_tools = false;
  int prompt_tokens = 0;       // words in the prompt: deterministic usage
};

struct reply_content {
  std::uint64_t serial = 0;              // makes ids unique per provider
  std::vector<std::string> text_chunks;  // empty: no text part
  std::optional<sb::fakes::tool_call> tool;
  std::vector<std::string> argument_chunks;  // tool arguments split for streaming
  bool omit_usage = false;

  // Deterministic usage: one token per content chunk.
  int completion_tokens() const {
    return static_cast<int>(text_chunks.size() + argument_chunks.size());
  }
};

}  // namespace sb::fakes
