// Anthropic Messages: message bodies with content blocks, the
// message_start .. message_stop event stream, and Anthropic's
// {"type": "error", "error": {type, message}} bodies.

#include "tests/fakes/fake_formats.hpp"
#include "tests/fakes/text_chunks.hpp"

namespace sb::fakes {

using ojson = nlohmann::ordered_json;

namespace {

std::string event_frame(const char* name, const ojson& data) {
  return std::string("event: ") + name + "\ndata: " + data.dump() + "\n\n";
}

std::string joined(const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += p;
  return out;
}

// Text of a system prompt or message content: a string or an array of blocks.
int words_in_blocks(const nlohmann::json& content) {
  if (content.is_string()) return count_words(content.get_ref<const std::string&>());
  int words = 0;
  if (content.is_array())
    for (const auto& block : content)
      if (block.is_object() && block.contains("text") && block["text"].is_string())
        words += count_words(block["text"].get_ref<const std::string&>());
  return words;
}

ojson full_usage(int input_tokens, int output_tokens) {
  return ojson{{"input_tokens", input_tokens},
               {"cache_creation_input_tokens", 0},
               {"cache_read_input_tokens", 0},
               {"output_tokens", output_tokens}};
}

void add_default_headers(reply_plan& plan, std::uint64_t serial) {
  plan.set_header("request-id", fake_id("req_", serial));
  plan.set_header("anthropic-ratelimit-requests-limit", "4000");
  plan.set_header("anthropic-ratelimit-requests-remaining", "3999");
  plan.set_header("anthropic-ratelimit-tokens-limit", "400000");
  plan.set_header("anthropic-ratelimit-tokens-remaining", "399000");
}

ojson message_skeleton(const chat_request& req, const reply_content& content) {
  return ojson{{"id", fake_id("msg_fake", content.serial)},
               {"type", "message"},
               {"role", "assistant"},
               {"model", req.model},
               {"content", ojson::array()},
               {"stop_reason", nullptr},
               {"stop_sequence", nullptr}};
}

reply_plan non_streamed(const chat_request& req, const reply_content& content) {
  ojson body = message_skeleton(req, content);
  if (!content.text_chunks.empty())
    body["content"].push_back({{"type", "text"}, {"text", joined(content.text_chunks)}});
  if (content.tool)
    body["content"].push_back({{"type", "tool_use"},
                               {"id", fake_id("toolu_fake", content.serial)},
                               {"name", content.tool->name},
                               {"input", arguments_object(content.tool->arguments_json)}});
  body["stop_reason"] = content.tool ? "tool_use" : "end_turn";
  if (!content.omit_usage) body["usage"] = full_usage(req.prompt_tokens, content.completion_tokens());
  reply_plan plan;
  plan.set_header("content-type", "application/json");
  plan.body = body.dump();
  return plan;
}

reply_plan streamed(const chat_request& req, const reply_content& content) {
  reply_plan plan;
  plan.streamed = true;
  plan.set_header("content-type", "text/event-stream; charset=utf-8");
  plan.set_header("cache-control", "no-cache");
  auto& events = plan.events;

  ojson start = message_skeleton(req, content);
  if (!content.omit_usage) start["usage"] = full_usage(req.prompt_tokens, 1);
  events.push_back({event_frame("message_start", {{"type", "message_start"}, {"message", start}}), false});

  int index = 0;
  auto open_block = [&](ojson block) {
    events.push_back({event_frame("content_block_start",
                                  {{"type", "content_block_start"}, {"index", index}, {"content_block", block}}),
                      false});
    // The real API pings once, right after the first block opens.
    if (index == 0) events.push_back({event_frame("ping", {{"type", "ping"}}), false});
  };
  auto delta = [&](ojson d, bool is_content) {
    events.push_back(
        {event_frame("content_block_delta", {{"type", "content_block_delta"}, {"index", index}, {"delta", d}}),
         is_content});
  };
  auto close_block = [&] {
    events.push_back({event_frame("content_block_stop", {{"type", "content_block_stop"}, {"index", index}}), false});
    ++index;
  };

  if (!content.text_chunks.empty() || !content.tool) {
    open_block({{"type", "text"}, {"text", ""}});
    for (const auto& piece : content.text_chunks) delta({{"type", "text_delta"}, {"text", piece}}, true);
    close_block();
  }
  if (content.tool) {
    open_block({{"type", "tool_use"},
                {"id", fake_id("toolu_fake", content.serial)},
                {"name", content.tool->name},
                {"input", ojson::object()}});
    delta({{"type", "input_json_delta"}, {"partial_json", ""}}, false);
    for (const auto& piece : content.argument_chunks)
      delta({{"type", "input_json_delta"}, {"partial_json", piece}}, true);
    close_block();
  }

  ojson message_delta{{"type", "message_delta"},
                      {"delta", {{"stop_reason", content.tool ? "tool_use" : "end_turn"}, {"stop_sequence", nullptr}}}};
  if (!content.omit_usage) message_delta["usage"] = {{"output_tokens", content.completion_tokens()}};
  events.push_back({event_frame("message_delta", message_delta), false});
  events.push_back({event_frame("message_stop", {{"type", "message_stop"}}), false});
  return plan;
}

}  // namespace

std::string anthropic_api_key(const recorded_request& req) { return req.header("x-api-key"); }

std::optional<rejection> anthropic_check_headers(const recorded_request& req) {
  if (anthropic_api_key(req).empty())
    return rejection{401, anthropic_error_body(401, {}, "x-api-key header is required")};
  // The real API answers a missing version with 400, not 401.
  if (req.header("anthropic-version").empty())
    return rejection{400, anthropic_error_body(400, {}, "anthropic-version: header is required")};
  return std::nullopt;
}

chat_request anthropic_read_request(const nlohmann::json& body) {
  if (!body.is_object()) throw std::invalid_argument("Request body must be a JSON object");
  if (!body.contains("model") || !body["model"].is_string()) throw std::invalid_argument("model: Field required");
  if (!body.contains("max_tokens")) throw std::invalid_argument("max_tokens: Field required");
  if (!body.contains("messages") || !body["messages"].is_array())
    throw std::invalid_argument("messages: Field required");
  chat_request req;
  req.model = body["model"].get<std::string>();
  req.stream = body.value("stream", false);
  req.offers_tools = body.contains("tools") && body["tools"].is_array() && !body["tools"].empty();
  if (body.contains("system")) req.prompt_tokens += words_in_blocks(body["system"]);
  for (const auto& message : body["messages"])
    if (message.is_object() && message.contains("content")) req.prompt_tokens += words_in_blocks(message["content"]);
  return req;
}

reply_plan anthropic_success(const chat_request& req, const reply_content& content) {
  reply_plan plan = req.stream ? streamed(req, content) : non_streamed(req, content);
  add_default_headers(plan, content.serial);
  return plan;
}

std::string anthropic_error_body(int status, std::string_view code, std::string_view message) {
  auto envelope = [&](const char* type, std::string_view default_message) {
    return ojson{{"type", "error"},
                 {"error",
                  {{"type", type},
                   {"message", message.empty() ? std::string(default_message) : std::string(message)}}}}
        .dump();
  };
  switch (status) {
    case 400:
      if (code == "context_length_exceeded")
        return envelope("invalid_request_error", "prompt is too long: 215034 tokens > 200000 maximum");
      return envelope("invalid_request_error", "Invalid request");
    case 401: return envelope("authentication_error", "invalid x-api-key");
    case 402:
      return envelope("billing_error",
                      "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to "
                      "upgrade or purchase credits.");
    case 403: return envelope("permission_error", "Your API key does not have permission to use the specified resource.");
    case 404: return envelope("not_found_error", "model: fake-model");
    case 413: return envelope("request_too_large", "Request exceeds the maximum allowed number of bytes.");
    case 429:
      return envelope("rate_limit_error",
                      "This request would exceed the rate limit for your organization of 50 requests per minute. "
                      "For details, refer to: https://docs.claude.com/en/api/rate-limits.");
    case 500: return envelope("api_error", "Internal server error");
    case 529: return envelope("overloaded_error", "Overloaded");
    default:
      return envelope(status < 500 ? "invalid_request_error" : "api_error", "HTTP " + std::to_string(status));
  }
}

}  // namespace sb::fakes
