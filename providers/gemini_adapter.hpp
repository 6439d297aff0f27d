#pragma once
// Google Gemini (generateContent / streamGenerateContent?alt=sse): the OpenAI
// chat request translated in, candidates translated back to OpenAI shapes.

#include <map>
#include <memory>
#include <string>

#include "providers/adapter.hpp"

namespace sb::providers {

class gemini_adapter final : public adapter {
 public:
  explicit gemini_adapter(const std::map<std::string, std::string>& extra_headers = {});

  [[nodiscard]] encoded_request encode(const nlohmann::json& request, const std::string& model,
                                       const std::string& api_key, bool stream) const override;
  [[nodiscard]] std::variant<decoded_completion, std::string> decode_response(
      std::string_view body, const std::string& model) const override;
  [[nodiscard]] failure classify(int status, std::string_view body) const override;
  [[nodiscard]] std::unique_ptr<stream_decoder> make_stream_decoder(
      const std::string& model, const std::string& id, std::int64_t created) const override;
  [[nodiscard]] std::unique_ptr<stream_decoder> make_stream_decoder(
      const std::string& model, const std::string& id, std::int64_t created,
      bool include_usage) const override;

 private:
  header_list extra_headers_;
};

/// The GenerateContentRequest for an OpenAI chat request (gemini_request.cpp).
/// The model is not in the body: it is in the path.
nlohmann::json to_gemini_request(const nlohmann::json& request);

/// finishReason -> OpenAI finish_reason; STOP after a functionCall is tool_calls.
std::string gemini_finish_reason(const std::string& finish_reason, bool called_function);

/// promptTokenCount (+ toolUsePromptTokenCount) and candidatesTokenCount
/// (+ thoughtsTokenCount, billed as output).
token_usage read_gemini_usage(const nlohmann::json& usage_metadata);

/// The OpenAI tool call for a Gemini functionCall part, id "call_<index>".
nlohmann::json gemini_tool_call(const nlohmann::json& function_call, int index);

/// The stream decoder (gemini_stream_decoder.cpp).
std::unique_ptr<stream_decoder> make_gemini_stream_decoder(const std::string& model,
                                                           const std::string& id,
                                                           std::int64_t created,
                                                           bool include_usage);

}  // namespace sb::providers
