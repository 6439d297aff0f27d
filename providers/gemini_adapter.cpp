#include "providers/gemini_adapter.hpp"

#include "providers/openai_shapes.hpp"
#include "providers/upstream_error.hpp"

namespace sb::providers {

using nlohmann::json;

namespace {

std::string dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string gemini_finish_reason(const std::string& finish_reason, bool called_function) {
  if (finish_reason == "MAX_TOKENS") return "length";
  if (finish_reason == "SAFETY" || finish_reason == "RECITATION" || finish_reason == "BLOCKLIST" ||
      finish_reason == "PROHIBITED_CONTENT" || finish_reason == "SPII" ||
      finish_reason == "IMAGE_SAFETY")
    return "content_filter";
  return called_function ? "tool_calls" : "stop";  // STOP, OTHER, and reasons added later
}

token_usage read_gemini_usage(const json& meta) {
  token_usage out;
  if (!meta.is_object()) return out;
  out.prompt_tokens = as_int(member(meta, "promptTokenCount")) + as_int(member(meta, "toolUsePromptTokenCount"));
  out.completion_tokens = as_int(member(meta, "candidatesTokenCount")) + as_int(member(meta, "thoughtsTokenCount"));
  out.reported = true;
  return out;
}

json gemini_tool_call(const json& function_call, int index) {
  const json& args = member(function_call, "args");
  return {{"id", "call_" + std::to_string(index)},
          {"type", "function"},
          {"function", {{"name", string_field(function_call, "name")},
                        {"arguments", dump(args.is_null() ? json::object() : args)}}}};
}

gemini_adapter::gemini_adapter(const std::map<std::string, std::string>& extra_headers)
    : extra_headers_(extra_headers.begin(), extra_headers.end()) {}

encoded_request gemini_adapter::encode(const json& request, const std::string& model,
                                       const std::string& api_key, bool stream) const {
  // Models are sometimes written with the API's resource prefix.
  std::string name = model.rfind("models/", 0) == 0 ? model.substr(7) : model;
  encoded_request out;
  out.path = "/v1beta/models/" + name + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
  out.headers = {{"x-goog-api-key", api_key}, {"Content-Type", "application/json"}};
  out.headers.insert(out.headers.end(), extra_headers_.begin(), extra_headers_.end());
  out.body = dump(to_gemini_request(request));
  return out;
}

std::variant<decoded_completion, std::string> gemini_adapter::decode_response(
    std::string_view body, const std::string& model) const {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return std::string("upstream answer is not a JSON object");
  if (parsed.contains("error")) return "upstream answered with an error: " + read_error_object(parsed).message;
  const json& candidates = member(parsed, "candidates");
  std::string finish;
  json message = {{"role", "assistant"}, {"content", ""}};
  if (candidates.is_array() && !candidates.empty()) {
    const json& candidate = candidates.front();
    std::string text;
    json tool_calls = json::array();
    for (const auto& part : member(member(candidate, "content"), "parts")) {
      if (member(part, "thought") == true) continue;  // the model's scratch pad
      if (part.contains("text")) text += string_field(part, "text");
      if (part.contains("functionCall"))
        tool_calls.push_back(gemini_tool_call(part["functionCall"], static_cast<int>(tool_calls.size())));
    }
    finish = gemini_finish_reason(string_field(candidate, "finishReason"), !tool_calls.empty());
    message["content"] = text.empty() && !tool_calls.empty() ? json() : json(text);
    if (!tool_calls.empty()) message["tool_calls"] = std::move(tool_calls);
  } else if (member(parsed, "promptFeedback").contains("blockReason")) {
    finish = "content_filter";  // the prompt itself was blocked: no candidate at all
  } else {
    return std::string("upstream answer has no candidates");
  }

  decoded_completion out;
  out.usage = read_gemini_usage(member(parsed, "usageMetadata"));
  std::string upstream_model = string_field(parsed, "modelVersion");
  out.completion = {{"id", string_field(parsed, "responseId")},
                    {"object", "chat.completion"},
                    {"created", 0},
                    {"model", upstream_model.empty() ? model : upstream_model},
                    {"choices", json::array({{{"index", 0},
                                              {"message", std::move(message)},
                                              {"logprobs", nullptr},
                                              {"finish_reason", finish}}})},
                    {"usage", usage_object(out.usage)}};
  note_completion_facts(out);
  return out;
}

failure gemini_adapter::classify(int status, std::string_view body) const {
  error_body err = read_error_body(body);
  failure f = status_failure(status, err);
  if (status == 400) {
    bool bad_key = mentions(err.message, "API_KEY_INVALID") || mentions(err.message, "API key not valid");
    for (const auto& reason : err.reasons) bad_key = bad_key || reason == "API_KEY_INVALID";
    if (bad_key) f.kind = failure_kind::auth_invalid;
    else if (mentions(err.message, "exceeds the maximum number of tokens")) f.kind = failure_kind::target_unavailable;
  }
  return f;
}

std::unique_ptr<stream_decoder> gemini_adapter::make_stream_decoder(const std::string& model,
                                                                   const std::string& id,
                                                                   std::int64_t created) const {
  return make_gemini_stream_decoder(model, id, created, false);
}

std::unique_ptr<stream_decoder> gemini_adapter::make_stream_decoder(const std::string& model,
                                                                   const std::string& id,
                                                                   std::int64_t created,
                                                                   bool include_usage) const {
  return make_gemini_stream_decoder(model, id, created, include_usage);
}

}  // namespace sb::providers
