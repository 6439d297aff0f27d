#pragma once
// Anthropic Messages (/v1/messages): the OpenAI chat request translated in,
// the message (or its event stream) translated back to OpenAI shapes.

#include <map>
#include <memory>
#include <string>

#include "providers/adapter.hpp"

namespace sb::providers {

class anthropic_adapter final : public adapter {
 public:
  explicit anthropic_adapter(const std::map<std::string, std::string>& extra_headers = {});

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

/// The Messages request for an OpenAI chat request (anthropic_request.cpp).
nlohmann::json to_anthropic_request(const nlohmann::json& request, const std::string& model,
                                    bool stream);

/// stop_reason -> OpenAI finish_reason.
std::string anthropic_finish_reason(const std::string& stop_reason);

/// input_tokens (+ cache creation and cache reads, billed as input) and output_tokens.
token_usage read_anthropic_usage(const nlohmann::json& usage);

/// The stream decoder (anthropic_stream_decoder.cpp).
std::unique_ptr<stream_decoder> make_anthropic_stream_decoder(const std::string& model,
                                                              const std::string& id,
                                                              std::int64_t created,
                                                              bool include_usage);

}  // namespace sb::providers
