// Gemini's streamGenerateContent?alt=sse: every data line is a whole
// GenerateContentResponse holding the next piece; there is no end marker, the
// chunk with a finishReason is the last -> OpenAI chat.completion.chunk objects.
#include "providers/gemini_adapter.hpp"
#include "providers/openai_shapes.hpp"
#include "providers/upstream_error.hpp"

namespace sb::providers {

using nlohmann::json;

namespace {

class gemini_stream_decoder final : public stream_decoder {
 public:
  gemini_stream_decoder(std::string model, std::string id, std::int64_t created, bool include_usage)
      : model_(std::move(model)), id_(std::move(id)), created_(created), include_usage_(include_usage) {}

  std::optional<failure> on_event(const sse_event& ev, std::vector<json>& out) override {
    if (ev.data.empty()) return std::nullopt;
    json data = json::parse(ev.data, nullptr, /*allow_exceptions=*/false);
    if (data.is_array() && !data.empty()) data = data.front();
    if (!data.is_object()) {
      return failure{failure_kind::server_error, 0, "bad_chunk", "upstream sent a stream chunk that is not JSON"};
    }
    if (data.contains("error")) {
      // e.g. {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}
      error_body err = read_error_object(data);
      return failure{kind_for_stream_error(err), 0, err.code, err.message};
    }
    if (data.contains("usageMetadata")) usage_ = read_gemini_usage(data["usageMetadata"]);
    if (done_) return std::nullopt;  // a late usage-only chunk: counted, nothing to show
    std::string version = string_field(data, "modelVersion");
    if (!version.empty()) model_ = std::move(version);
    start(out);

    const json& candidates = member(data, "candidates");
    if (candidates.is_array() && !candidates.empty()) {
      const json& candidate = candidates.front();
      for (const auto& part : member(member(candidate, "content"), "parts")) on_part(part, out);
      std::string reason = string_field(candidate, "finishReason");
      if (!reason.empty()) finish(gemini_finish_reason(reason, tool_calls_ > 0), out);
    } else if (member(data, "promptFeedback").contains("blockReason")) {
      finish("content_filter", out);
    }
    return std::nullopt;
  }

  [[nodiscard]] bool done() const override { return done_; }
  [[nodiscard]] token_usage usage() const override { return usage_; }

 private:
  std::string model_;
  std::string id_;
  std::int64_t created_;
  bool include_usage_;
  bool started_ = false;
  bool done_ = false;
  int tool_calls_ = 0;
  token_usage usage_;

  json chunk(json delta, const json& finish_reason = nullptr) const {
    return make_chunk(id_, created_, model_, std::move(delta), finish_reason);
  }

  void start(std::vector<json>& out) {
    if (started_) return;
    started_ = true;
    out.push_back(chunk({{"role", "assistant"}, {"content", ""}}));
  }

  void on_part(const json& part, std::vector<json>& out) {
    if (member(part, "thought") == true) return;  // the model's scratch pad
    std::string text = string_field(part, "text");
    if (!text.empty()) out.push_back(chunk({{"content", std::move(text)}}));
    if (part.contains("functionCall")) {
      // Gemini sends a call whole: header and arguments in one delta.
      json call = gemini_tool_call(part["functionCall"], tool_calls_);
      call["index"] = tool_calls_++;
      out.push_back(chunk({{"tool_calls", json::array({std::move(call)})}}));
    }
  }

  void finish(const std::string& reason, std::vector<json>& out) {
    out.push_back(chunk(json::object(), reason));
    if (include_usage_) out.push_back(make_usage_chunk(id_, created_, model_, usage_));
    done_ = true;
  }
};

}  // namespace

std::unique_ptr<stream_decoder> make_gemini_stream_decoder(const std::string& model,
                                                           const std::string& id,
                                                           std::int64_t created,
                                                           bool include_usage) {
  return std::make_unique<gemini_stream_decoder>(model, id, created, include_usage);
}

}  // namespace sb::providers
