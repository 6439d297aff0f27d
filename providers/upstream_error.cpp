#include "providers/upstream_error.hpp"

#include <algorithm>
#include <cctype>

namespace sb::providers {

using nlohmann::json;

namespace {

// A non-JSON body (an HTML error page from a proxy) is shown in part only.
constexpr std::size_t max_raw_message = 300;

std::string scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  return {};
}

}  // namespace

error_body read_error_object(const json& envelope) {
  error_body out;
  const json* err = &envelope;
  if (envelope.is_object()) {
    auto it = envelope.find("error");
    if (it != envelope.end()) err = &*it;
  }
  if (err->is_string()) {  // {"error": "text"}, as some OpenAI-compatible hosts send
    out.message = err->get<std::string>();
    return out;
  }
  if (!err->is_object()) return out;
  out.message = scalar_text(err->value("message", json()));
  out.type = scalar_text(err->value("type", json()));
  if (out.type.empty()) out.type = scalar_text(err->value("status", json()));
  auto details = err->find("details");
  if (details != err->end() && details->is_array()) {
    for (const auto& d : *details) {
      if (d.is_object() && d.contains("reason")) out.reasons.push_back(scalar_text(d["reason"]));
    }
  }
  // Gemini's `code` is the HTTP status number; its machine-readable word is the reason.
  auto code = err->find("code");
  if (code != err->end() && code->is_string()) out.code = code->get<std::string>();
  if (code != err->end() && code->is_number_integer()) out.status = code->get<int>();
  if (out.code.empty() && !out.reasons.empty()) out.code = out.reasons.front();
  if (out.code.empty()) out.code = out.type;
  return out;
}

error_body read_error_body(std::string_view body) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  // Gemini's non-SSE stream endpoint wraps its error in a one-element array.
  if (parsed.is_array() && !parsed.empty()) parsed = parsed.front();
  if (parsed.is_object() && parsed.contains("error")) return read_error_object(parsed);
  error_body out;
  out.message = std::string(body.substr(0, max_raw_message));
  return out;
}

failure_kind kind_for_status(int status) {
  switch (status) {
    case 429: return failure_kind::rate_limited;
    case 402: return failure_kind::out_of_credit;
    case 401:
    case 403: return failure_kind::auth_invalid;
    case 404: return failure_kind::target_unavailable;
    // An upstream that timed out on its side is as transient as a 503.
    case 408: return failure_kind::server_error;
    default: break;
  }
  if (status >= 400 && status < 500) return failure_kind::client_error;
  return failure_kind::server_error;  // 5xx, 529 overloaded, and anything unexpected
}

failure status_failure(int status, const error_body& err) {
  std::string message = err.message.empty() ? "upstream answered HTTP " + std::to_string(status) : err.message;
  return failure{kind_for_status(status), status, err.code, std::move(message)};
}

failure_kind kind_for_stream_error(const error_body& err) {
  for (const std::string& word : {err.code, err.type}) {
    if (word == "insufficient_quota") return failure_kind::out_of_credit;
    if (word == "rate_limit_error" || word == "rate_limit_exceeded" ||
        word == "RESOURCE_EXHAUSTED")
      return failure_kind::rate_limited;
    if (word == "authentication_error" || word == "permission_error" ||
        word == "invalid_api_key" || word == "API_KEY_INVALID")
      return failure_kind::auth_invalid;
    if (word == "invalid_request_error" || word == "INVALID_ARGUMENT")
      return failure_kind::client_error;
  }
  if (err.status >= 400) return kind_for_status(err.status);
  return failure_kind::server_error;  // overloaded_error, api_error, UNAVAILABLE, unknown
}

bool mentions(std::string_view text, std::string_view needle) {
  auto it = std::search(text.begin(), text.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != text.end();
}

}  // namespace sb::providers
