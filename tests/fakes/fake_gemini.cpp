// Gemini generateContent / streamGenerateContent: candidates with parts,
// usageMetadata, SSE frames terminated by CRLF CRLF as Google sends them (a
// JSON array without alt=sse), and Google's {"error": {code, message, status}}.

#include "tests/fakes/fake_formats.hpp"
#include "tests/fakes/text_chunks.hpp"

namespace sb::fakes {

using ojson = nlohmann::ordered_json;

namespace {

std::string joined(const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += p;
  return out;
}

int words_in_parts(const nlohmann::json& content) {
  int words = 0;
  if (content.is_object() && content.contains("parts") && content["parts"].is_array())
    for (const auto& part : content["parts"])
      if (part.is_object() && part.contains("text") && part["text"].is_string())
        words += count_words(part["text"].get_ref<const std::string&>());
  return words;
}

// The {model} of ".../models/{model}:method".
std::string model_of(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  const auto start = path.find("/models/") + 8;
  return std::string(path.substr(start, path.rfind(':') - start));
}

bool query_has(std::string_view target, std::string_view param) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return false;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    if (query.substr(0, amp) == param) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

ojson usage_json(const chat_request& req, const reply_content& content, bool final) {
  const int candidates = content.completion_tokens();
  ojson usage{{"promptTokenCount", req.prompt_tokens}};
  if (final) usage["candidatesTokenCount"] = candidates;
  usage["totalTokenCount"] = req.prompt_tokens + (final ? candidates : 0);
  usage["promptTokensDetails"] = ojson::array({{{"modality", "TEXT"}, {"tokenCount", req.prompt_tokens}}});
  return usage;
}

ojson function_call_part(const reply_content& content) {
  return {{"functionCall", {{"name", content.tool->name}, {"args", arguments_object(content.tool->arguments_json)}}}};
}

// One response object; `last` carries finishReason and the complete usage.
ojson response(const chat_request& req, const reply_content& content, ojson parts, bool last) {
  ojson candidate{{"content", {{"parts", std::move(parts)}, {"role", "model"}}}};
  if (last) candidate["finishReason"] = "STOP";
  candidate["index"] = 0;
  ojson r{{"candidates", ojson::array({candidate})}};
  if (!content.omit_usage) r["usageMetadata"] = usage_json(req, content, last);
  r["modelVersion"] = req.model;
  r["responseId"] = fake_id("fakeresp", content.serial);
  return r;
}

// The pieces a stream is made of: each text chunk, then the function call.
std::vector<ojson> stream_responses(const chat_request& req, const reply_content& content) {
  std::vector<ojson> out;
  const std::size_t total = content.text_chunks.size() + (content.tool ? 1 : 0);
  for (std::size_t i = 0; i < content.text_chunks.size(); ++i)
    out.push_back(response(req, content, ojson::array({{{"text", content.text_chunks[i]}}}), i + 1 == total));
  if (content.tool) out.push_back(response(req, content, ojson::array({function_call_part(content)}), true));
  if (out.empty()) out.push_back(response(req, content, ojson::array({{{"text", ""}}}), true));
  return out;
}

}  // namespace

std::string gemini_api_key(const recorded_request& req) {
  std::string key = req.header("x-goog-api-key");
  if (!key.empty()) return key;
  // The real API also takes ?key=.
  const auto q = req.target.find('?');
  if (q == std::string::npos) return {};
  std::string_view query = std::string_view(req.target).substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto param = query.substr(0, amp);
    if (param.rfind("key=", 0) == 0) return std::string(param.substr(4));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

std::optional<rejection> gemini_check_headers(const recorded_request& req) {
  if (!gemini_api_key(req).empty()) return std::nullopt;
  return rejection{403, gemini_error_body(403, "missing_api_key")};
}

chat_request gemini_read_request(const nlohmann::json& body, std::string_view target) {
  if (!body.is_object()) throw std::invalid_argument("Invalid JSON payload received.");
  if (!body.contains("contents") || !body["contents"].is_array() || body["contents"].empty())
    throw std::invalid_argument("* GenerateContentRequest.contents: contents is not specified");
  chat_request req;
  req.model = model_of(target);
  const std::string_view path = target.substr(0, target.find('?'));
  req.stream = path.size() >= 22 && path.substr(path.size() - 22) == ":streamGenerateContent";
  req.gemini_sse = req.stream && query_has(target, "alt=sse");
  if (body.contains("tools") && body["tools"].is_array())
    for (const auto& tool : body["tools"])
      if (tool.is_object() && tool.contains("functionDeclarations") && !tool["functionDeclarations"].empty())
        req.offers_tools = true;
  if (body.contains("systemInstruction")) req.prompt_tokens += words_in_parts(body["systemInstruction"]);
  for (const auto& content : body["contents"]) req.prompt_tokens += words_in_parts(content);
  return req;
}

reply_plan gemini_success(const chat_request& req, const reply_content& content) {
  reply_plan plan;
  if (req.gemini_sse) {
    plan.streamed = true;
    plan.set_header("content-type", "text/event-stream");
    auto pieces = stream_responses(req, content);
    for (std::size_t i = 0; i < pieces.size(); ++i)
      plan.events.push_back({"data: " + pieces[i].dump() + "\r\n\r\n", true});
    return plan;
  }
  plan.set_header("content-type", "application/json; charset=UTF-8");
  if (req.stream) {
    // streamGenerateContent without alt=sse: one JSON array of the same pieces.
    std::string body = "[";
    for (const auto& piece : stream_responses(req, content)) body += (body.size() > 1 ? ",\r\n" : "") + piece.dump();
    plan.body = body + "]";
    return plan;
  }
  ojson parts = ojson::array();
  if (!content.text_chunks.empty()) parts.push_back({{"text", joined(content.text_chunks)}});
  if (content.tool) parts.push_back(function_call_part(content));
  if (parts.empty()) parts.push_back({{"text", ""}});
  plan.body = response(req, content, std::move(parts), true).dump();
  return plan;
}

std::string gemini_error_body(int status, std::string_view code, std::string_view message) {
  auto envelope = [&](const char* google_status, std::string_view default_message, ojson details = nullptr) {
    ojson error{{"code", status},
                {"message", message.empty() ? std::string(default_message) : std::string(message)},
                {"status", google_status}};
    if (!details.is_null()) error["details"] = std::move(details);
    return ojson{{"error", error}}.dump();
  };
  switch (status) {
    case 400:
      if (code == "API_KEY_INVALID") {
        const char* text = "API key not valid. Please pass a valid API key.";
        return envelope("INVALID_ARGUMENT", text,
                        ojson::array({{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                                       {"reason", "API_KEY_INVALID"},
                                       {"domain", "googleapis.com"},
                                       {"metadata", {{"service", "generativelanguage.googleapis.com"}}}},
                                      {{"@type", "type.googleapis.com/google.rpc.LocalizedMessage"},
                                       {"locale", "en-US"},
                                       {"message", text}}}));
      }
      if (code == "context_length_exceeded")
        return envelope("INVALID_ARGUMENT",
                        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).");
      return envelope("INVALID_ARGUMENT", "Request contains an invalid argument.");
    case 401:
      return envelope("UNAUTHENTICATED",
                      "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
                      "or other valid authentication credential.");
    case 403:
      if (code == "missing_api_key")
        return envelope("PERMISSION_DENIED",
                        "Method doesn't allow unregistered callers (callers without established identity). Please "
                        "use API Key or other form of API consumer identity to call this API.");
      return envelope("PERMISSION_DENIED", "The caller does not have permission");
    case 404:
      return envelope("NOT_FOUND",
                      "models/fake-model is not found for API version v1beta, or is not supported for "
                      "generateContent. Call ListModels to see the list of available models and their supported "
                      "methods.");
    case 429:
      return envelope("RESOURCE_EXHAUSTED",
                      "Resource has been exhausted (e.g. check quota).");
    case 500:
      return envelope("INTERNAL", "An internal error has occurred. Please retry or report in "
                                  "https://developers.generativeai.google/guide/troubleshooting");
    case 503: return envelope("UNAVAILABLE", "The model is overloaded. Please try again later.");
    case 504: return envelope("DEADLINE_EXCEEDED", "Deadline expired before operation could complete.");
    default:
      return envelope(status < 500 ? "FAILED_PRECONDITION" : "UNKNOWN", "HTTP " + std::to_string(status));
  }
}

}  // namespace sb::fakes
