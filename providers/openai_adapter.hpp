#pragma once
// OpenAI chat completions, spoken by openai, openrouter, deepseek and
// huggingface: the client's own format, so the adapter mostly relays.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "providers/adapter.hpp"

namespace sb::providers {

class openai_adapter final : public adapter {
 public:
  /// `extra_headers` go on every request (e.g. OpenAI-Organization).
  explicit openai_adapter(const std::map<std::string, std::string>& extra_headers = {});

  [[nodiscard]] encoded_request encode(const nlohmann::json& request, const std::string& model,
                                       const std::string& api_key, bool stream) const override;
  /// The client's own format: its members are copied from the body's text
  /// while it has one (openai_request_body_from_text).
  [[nodiscard]] encoded_request encode(const chat_body& body, const std::string& model,
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
  [[nodiscard]] encoded_request with_body(std::string body, const std::string& api_key) const;
  header_list extra_headers_;
};

/// The upstream body: the client's request with `model` set, gateway-only
/// fields dropped and, when streaming, usage asked for. Written member by
/// member so the (possibly long) messages are serialised once, never copied.
std::string openai_request_body(const nlohmann::json& request, const std::string& model,
                                bool stream);

/// The same body with the client's members copied from `text`, the client's
/// JSON, byte for byte: no member is serialised again, and no tree is built
/// (only a streamed body's small stream_options is parsed). nullopt (write
/// it from the tree instead) when `text` is not a JSON object or repeats a
/// key: the tree keeps only a repeated key's last value.
std::optional<std::string> openai_request_body_from_text(std::string_view text, const std::string& model,
                                                         bool stream);

/// Reads an OpenAI `usage` object; `reported` stays false when it is not one.
token_usage read_openai_usage(const nlohmann::json& usage);

}  // namespace sb::providers
