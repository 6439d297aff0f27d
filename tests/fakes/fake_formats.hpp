#pragma once
// Everything one wire format contributes, one .cpp per format
// (fake_openai.cpp, fake_anthropic.cpp, fake_gemini.cpp). Each is faithful to
// the real API's JSON shapes, SSE event sequence, headers and error bodies.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tests/fakes/chat_request.hpp"
#include "tests/fakes/recorded_request.hpp"
#include "tests/fakes/reply_plan.hpp"

namespace sb::fakes {

// A request the real provider would refuse before looking at it.
struct rejection {
  int status;
  std::string body;
};

// The API key as the format carries it, or "".
std::string openai_api_key(const recorded_request& req);
std::string anthropic_api_key(const recorded_request& req);
std::string gemini_api_key(const recorded_request& req);

// Missing credentials or required headers.
std::optional<rejection> openai_check_headers(const recorded_request& req);
std::optional<rejection> anthropic_check_headers(const recorded_request& req);
std::optional<rejection> gemini_check_headers(const recorded_request& req);

// Reads a parsed body; throws std::invalid_argument with the provider's own
// wording when the body lacks what the real API requires.
chat_request openai_read_request(const nlohmann::json& body);
chat_request anthropic_read_request(const nlohmann::json& body);
chat_request gemini_read_request(const nlohmann::json& body, std::string_view target);

reply_plan openai_success(const chat_request& req, const reply_content& content);
reply_plan anthropic_success(const chat_request& req, const reply_content& content);
reply_plan gemini_success(const chat_request& req, const reply_content& content);

std::string openai_error_body(int status, std::string_view code, std::string_view message = {});
std::string anthropic_error_body(int status, std::string_view code, std::string_view message = {});
std::string gemini_error_body(int status, std::string_view code, std::string_view message = {});

// Tool arguments as a JSON value ({} when the text is not JSON).
nlohmann::ordered_json arguments_object(const std::string& arguments_json);

// "<prefix>" followed by the serial zero-padded: ids look like the real ones.
std::string fake_id(const char* prefix, std::uint64_t serial);

}  // namespace sb::fakes
