// Anthropic's event stream (message_start, content_block_*, message_delta,
// message_stop, ping, error) -> OpenAI chat.completion.chunk objects.
#include <map>

#include "providers/anthropic_adapter.hpp"
#include "providers/openai_shapes.hpp"
#include "providers/upstream_error.hpp"

namespace sb::providers {

using nlohmann::json;

namespace {

class anthropic_stream_decoder final : public stream_decoder {
 public:
  anthropic_stream_decoder(std::string model, std::string id, std::int64_t created, bool include_usage)
      : model_(std::move(model)), id_(std::move(id)), created_(created), include_usage_(include_usage) {}

  std::optional<failure> on_event(const sse_event& ev, std::vector<json>& out) override {
    if (ev.data.empty()) return std::nullopt;
    json data = json::parse(ev.data, nullptr, /*allow_exceptions=*/false);
    if (!data.is_object()) {
      return failure{failure_kind::server_error, 0, "bad_event", "upstream sent a stream event that is not JSON"};
    }
    std::string type = string_field(data, "type");
    if (type.empty()) type = ev.event;

    if (type == "message_start") return on_message_start(data, out);
    if (type == "content_block_start") return on_block_start(data, out);
    if (type == "content_block_delta") return on_block_delta(data, out);
    if (type == "message_delta") return on_message_delta(data);
    if (type == "message_stop") return on_message_stop(out);
    if (type == "error") {
      // e.g. {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}
      error_body err = read_error_object(data);
      return failure{kind_for_stream_error(err), 0, err.code, err.message};
    }
    return std::nullopt;  // ping, content_block_stop, and event types added later
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
  std::string finish_reason_ = "stop";
  token_usage usage_;
  std::map<std::int64_t, int> tool_index_;  // Anthropic block index -> OpenAI tool_calls index

  json chunk(json delta, const json& finish_reason = nullptr) const {
    return make_chunk(id_, created_, model_, std::move(delta), finish_reason);
  }

  // OpenAI's first chunk names the role; every later one carries only news.
  void start(std::vector<json>& out) {
    if (started_) return;
    started_ = true;
    out.push_back(chunk({{"role", "assistant"}, {"content", ""}}));
  }

  std::optional<failure> on_message_start(const json& data, std::vector<json>& out) {
    const json& message = member(data, "message");
    std::string id = string_field(message, "id");
    std::string model = string_field(message, "model");
    if (!id.empty()) id_ = std::move(id);
    if (!model.empty()) model_ = std::move(model);
    if (message.contains("usage")) usage_ = read_anthropic_usage(message["usage"]);
    start(out);
    return std::nullopt;
  }

  std::optional<failure> on_block_start(const json& data, std::vector<json>& out) {
    start(out);
    const json& block = member(data, "content_block");
    std::string type = string_field(block, "type");
    if (type == "text") {
      std::string text = string_field(block, "text");
      if (!text.empty()) out.push_back(chunk({{"content", std::move(text)}}));
    } else if (type == "tool_use") {
      int index = static_cast<int>(tool_index_.size());
      tool_index_[as_int(data.value("index", json()))] = index;
      json call = {{"index", index},
                   {"id", string_field(block, "id")},
                   {"type", "function"},
                   {"function", {{"name", string_field(block, "name")}, {"arguments", ""}}}};
      out.push_back(chunk({{"tool_calls", json::array({std::move(call)})}}));
    }
    return std::nullopt;
  }

  std::optional<failure> on_block_delta(const json& data, std::vector<json>& out) {
    start(out);
    const json& delta = member(data, "delta");
    std::string type = string_field(delta, "type");
    if (type == "text_delta") {
      out.push_back(chunk({{"content", string_field(delta, "text")}}));
    } else if (type == "input_json_delta") {
      std::string partial = string_field(delta, "partial_json");
      auto it = tool_index_.find(as_int(data.value("index", json())));
      if (partial.empty() || it == tool_index_.end()) return std::nullopt;
      json call = {{"index", it->second}, {"function", {{"arguments", std::move(partial)}}}};
      out.push_back(chunk({{"tool_calls", json::array({std::move(call)})}}));
    }  // thinking_delta / signature_delta: the model's scratch pad, not its answer
    return std::nullopt;
  }

  std::optional<failure> on_message_delta(const json& data) {
    const json& delta = member(data, "delta");
    std::string stop_reason = string_field(delta, "stop_reason");
    if (!stop_reason.empty()) finish_reason_ = anthropic_finish_reason(stop_reason);
    const json& usage = member(data, "usage");
    // output_tokens is cumulative; newer API versions repeat input counts here too.
    if (usage.contains("output_tokens")) {
      usage_.completion_tokens = as_int(usage["output_tokens"]);
      usage_.reported = true;
    }
    if (usage.contains("input_tokens")) usage_.prompt_tokens = read_anthropic_usage(usage).prompt_tokens;
    return std::nullopt;
  }

  std::optional<failure> on_message_stop(std::vector<json>& out) {
    start(out);
    out.push_back(chunk(json::object(), finish_reason_));
    if (include_usage_) out.push_back(make_usage_chunk(id_, created_, model_, usage_));
    done_ = true;
    return std::nullopt;
  }
};

}  // namespace

std::unique_ptr<stream_decoder> make_anthropic_stream_decoder(const std::string& model,
                                                              const std::string& id,
                                                              std::int64_t created,
                                                              bool include_usage) {
  return std::make_unique<anthropic_stream_decoder>(model, id, created, include_usage);
}

}  // namespace sb::providers
