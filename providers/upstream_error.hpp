#pragma once
// Reading a provider's error answer: the envelopes differ (OpenAI
// {"error":{message,type,code}}, Anthropic {"type":"error","error":{type,message}},
// Gemini {"error":{code,message,status,details}}), the retry table does not.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/adapter.hpp"

namespace sb::providers {

/// What an error body says, whatever its envelope. Fields are "" when absent.
struct error_body {
  std::string code;     // OpenAI error.code, else the type/status below
  std::string type;     // OpenAI/Anthropic error.type, Gemini error.status
  std::string message;  // the provider's message (or the start of a non-JSON body)
  std::vector<std::string> reasons;  // Gemini error.details[].reason
  int status = 0;       // a numeric error.code (Gemini, OpenRouter in-stream errors)
};

error_body read_error_body(std::string_view body);
/// Same, from an already parsed {"error": ...} object (in-stream errors).
error_body read_error_object(const nlohmann::json& envelope);

/// SPEC section 5's row for a status alone; formats add their body-based
/// exceptions (insufficient_quota, API_KEY_INVALID, context length) on top.
failure_kind kind_for_status(int status);

/// The failure for a non-2xx answer by its status row, with the body's code and
/// message (a message naming the status when the body had none).
failure status_failure(int status, const error_body& err);

/// The row for an error that arrives inside a 200 stream, by its type/code.
/// Unknown types count as server errors: the upstream broke mid-answer.
failure_kind kind_for_stream_error(const error_body& err);

/// True when the text mentions `needle`, ignoring ASCII case.
bool mentions(std::string_view text, std::string_view needle);

}  // namespace sb::providers
