#include "providers/anthropic_adapter.hpp"

#include "providers/openai_shapes.hpp"
#include "providers/upstream_error.hpp"

namespace sb::providers {

using nlohmann::json;

namespace {

std::string dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string anthropic_finish_reason(const std::string& stop_reason) {
  if (stop_reason == "max_tokens") return "length";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "refusal") return "content_filter";
  return "stop";  // end_turn, stop_sequence, pause_turn
}

token_usage read_anthropic_usage(const json& usage) {
  token_usage out;
  if (!usage.is_object()) return out;
  out.prompt_tokens = as_int(usage.value("input_tokens", json())) +
                      as_int(usage.value("cache_creation_input_tokens", json())) +
                      as_int(usage.value("cache_read_input_tokens", json()));
  out.completion_tokens = as_int(usage.value("output_tokens", json()));
  out.reported = true;
  return out;
}

anthropic_adapter::anthropic_adapter(const std::map<std::string, std::string>& extra_headers)
    : extra_headers_(extra_headers.begin(), extra_headers.end()) {}

encoded_request anthropic_adapter::encode(const json& request, const std::string& model,
                                          const std::string& api_key, bool stream) const {
  encoded_request out;
  out.path = "/v1/messages";
  out.headers = {{"x-api-key", api_key},
                 {"anthropic-version", "2023-06-01"},
                 {"Content-Type", "application/json"}};
  out.headers.insert(out.headers.end(), extra_headers_.begin(), extra_headers_.end());
  out.body = dump(to_anthropic_request(request, model, stream));
  return out;
}

std::variant<decoded_completion, std::string> anthropic_adapter::decode_response(
    std::string_view body, const std::string& model) const {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return std::string("upstream answer is not a JSON object");
  if (string_field(parsed, "type") == "error") {
    error_body err = read_error_object(parsed);
    return "upstream answered with an error: " + err.message;
  }
  auto content = parsed.find("content");
  if (content == parsed.end() || !content->is_array())
    return std::string("upstream answer has no content list");

  std::string text;
  json tool_calls = json::array();
  for (const auto& block : *content) {
    std::string type = string_field(block, "type");
    if (type == "text") {
      text += string_field(block, "text");
    } else if (type == "tool_use") {
      tool_calls.push_back({{"id", string_field(block, "id")},
                            {"type", "function"},
                            {"function", {{"name", string_field(block, "name")},
                                          {"arguments", dump(block.value("input", json::object()))}}}});
    }  // thinking blocks are the model's scratch pad, not its answer
  }
  json message = {{"role", "assistant"}, {"content", text.empty() && !tool_calls.empty() ? json() : json(text)}};
  if (!tool_calls.empty()) message["tool_calls"] = std::move(tool_calls);

  decoded_completion out;
  out.usage = read_anthropic_usage(parsed.value("usage", json()));
  std::string upstream_model = string_field(parsed, "model");
  out.completion = {
      {"id", string_field(parsed, "id")},
      {"object", "chat.completion"},
      {"created", 0},
      {"model", upstream_model.empty() ? model : upstream_model},
      {"choices", json::array({{{"index", 0},
                                {"message", std::move(message)},
                                {"logprobs", nullptr},
                                {"finish_reason", anthropic_finish_reason(string_field(parsed, "stop_reason"))}}})},
      {"usage", usage_object(out.usage)}};
  note_completion_facts(out);
  return out;
}

failure anthropic_adapter::classify(int status, std::string_view body) const {
  error_body err = read_error_body(body);
  failure f = status_failure(status, err);
  if (status == 400) {
    if (mentions(err.message, "prompt is too long")) f.kind = failure_kind::target_unavailable;
    // Anthropic reports an empty prepaid balance as a 400, not a 402.
    if (mentions(err.message, "credit balance is too low")) f.kind = failure_kind::out_of_credit;
  }
  return f;
}

std::unique_ptr<stream_decoder> anthropic_adapter::make_stream_decoder(const std::string& model,
                                                                      const std::string& id,
                                                                      std::int64_t created) const {
  return make_anthropic_stream_decoder(model, id, created, false);
}

std::unique_ptr<stream_decoder> anthropic_adapter::make_stream_decoder(const std::string& model,
                                                                      const std::string& id,
                                                                      std::int64_t created,
                                                                      bool include_usage) const {
  return make_anthropic_stream_decoder(model, id, created, include_usage);
}

}  // namespace sb::providers
