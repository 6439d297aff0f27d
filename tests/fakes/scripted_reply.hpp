#pragma once
// What the fake answers to one request. A default-constructed reply is a
// faithful success in the request's wire format with the provider's default
// text; every field below bends that answer one way.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tests/fakes/wire_format.hpp"

namespace sb::fakes {

// The model calls a tool. Only honoured when the request offers tools, as a
// real model can only call a tool it was given.
struct tool_call {
  std::string name;
  std::string arguments_json = "{}";  // a JSON object, as text
};

struct scripted_reply {
  // Non-2xx with no body: the body is the request format's real error body for
  // that status (see error_reply for the variants a code selects).
  int status = 200;
  // Added to (and replacing same-named) default response headers, e.g.
  // retry-after, x-ratelimit-reset-requests, anthropic-ratelimit-requests-reset.
  std::vector<std::pair<std::string, std::string>> headers;
  // Sent verbatim (content-type application/json unless a header says otherwise).
  std::optional<std::string> body;

  std::optional<std::string> text;      // reply text; else the provider's default
  std::optional<int> chunks;            // content chunks; else the provider's default
  std::chrono::milliseconds head_delay{0};            // before the status line
  std::optional<std::chrono::milliseconds> chunk_delay;  // before each content chunk
  // >= 0: after that many content chunks the socket is reset (RST), no end of
  // stream. On a non-streamed reply the socket is reset without any answer.
  int reset_after_chunks = -1;
  std::optional<sb::fakes::tool_call> tool_call;
  bool omit_usage = false;  // no usage anywhere in the answer (stream cut short)
  bool hang = false;        // read the request, never answer
};

// The format's real error body for a status, as a scripted reply.
// `code` picks a variant where one status has several meanings:
//   openai:    429 "rate_limit_exceeded" (default) | "insufficient_quota";
//              400 "invalid_request_error" (default) | "context_length_exceeded";
//              401 invalid_api_key; 402 (OpenRouter's credits shape); 403; 404 model_not_found;
//              500, 502, 503
//   anthropic: 400 invalid_request_error | "context_length_exceeded" (prompt is too long);
//              401 authentication_error; 402 billing_error; 403 permission_error;
//              404 not_found_error; 413; 429 rate_limit_error; 500 api_error; 529 overloaded_error
//   gemini:    400 INVALID_ARGUMENT | "API_KEY_INVALID" | "context_length_exceeded";
//              403 PERMISSION_DENIED; 404 NOT_FOUND; 429 RESOURCE_EXHAUSTED;
//              500 INTERNAL; 503 UNAVAILABLE; 504 DEADLINE_EXCEEDED
scripted_reply error_reply(wire_format format, int status, std::string_view code = {});

// Just the body of error_reply.
std::string error_body(wire_format format, int status, std::string_view code = {});

// The JSON shape shared by the C++ API and POST /__fake/script:
// {"status", "headers": {name: value}, "body", "text", "chunks", "head_delay_ms",
//  "chunk_delay_ms", "reset_after_chunks", "tool_call": {"name", "arguments"
//  (string or object)}, "omit_usage", "hang", "format" + "error_status"
//  (+ "error_code"): start from error_reply(format, error_status, error_code)}.
// ("key" is read by the control endpoint, not here.) Throws std::invalid_argument.
scripted_reply from_json(const nlohmann::json& j);
scripted_reply parse_scripted_reply(std::string_view json_text);

}  // namespace sb::fakes
