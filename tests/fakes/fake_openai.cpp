// OpenAI Chat Completions (also OpenRouter, DeepSeek, Hugging Face router):
// chat.completion bodies, chat.completion.chunk streams ending in
// "data: [DONE]", and OpenAI's {"error": {message, type, param, code}} bodies.

#include <ctime>

#include "tests/fakes/fake_formats.hpp"
#include "tests/fakes/text_chunks.hpp"

namespace sb::fakes {

using ojson = nlohmann::ordered_json;

namespace {

constexpr const char* sse_content_type = "text/event-stream; charset=utf-8";

std::string data_frame(const ojson& j) { return "data: " + j.dump() + "\n\n"; }

ojson usage_json(const chat_request& req, const reply_content& content) {
  const int completion = content.completion_tokens();
  return ojson{{"prompt_tokens", req.prompt_tokens},
               {"completion_tokens", completion},
               {"total_tokens", req.prompt_tokens + completion},
               {"prompt_tokens_details", {{"cached_tokens", 0}, {"audio_tokens", 0}}},
               {"completion_tokens_details",
                {{"reasoning_tokens", 0},
                 {"audio_tokens", 0},
                 {"accepted_prediction_tokens", 0},
                 {"rejected_prediction_tokens", 0}}}};
}

std::string joined(const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += p;
  return out;
}

void add_default_headers(reply_plan& plan, std::uint64_t serial) {
  plan.set_header("x-request-id", fake_id("req_", serial));
  plan.set_header("openai-processing-ms", "1");
  plan.set_header("openai-version", "2020-10-01");
  plan.set_header("x-ratelimit-limit-requests", "10000");
  plan.set_header("x-ratelimit-remaining-requests", "9999");
  plan.set_header("x-ratelimit-limit-tokens", "30000000");
  plan.set_header("x-ratelimit-remaining-tokens", "29999000");
}

// The text of a message's content: a string, or an array of typed parts.
int words_in_content(const nlohmann::json& content) {
  if (content.is_string()) return count_words(content.get_ref<const std::string&>());
  int words = 0;
  if (content.is_array())
    for (const auto& part : content)
      if (part.is_object() && part.contains("text") && part["text"].is_string())
        words += count_words(part["text"].get_ref<const std::string&>());
  return words;
}

reply_plan non_streamed(const chat_request& req, const reply_content& content, const std::string& id,
                        std::time_t created) {
  ojson message{{"role", "assistant"}};
  message["content"] = content.text_chunks.empty() ? ojson(nullptr) : ojson(joined(content.text_chunks));
  if (content.tool) {
    message["tool_calls"] = ojson::array({{{"id", fake_id("call_", content.serial)},
                                           {"type", "function"},
                                           {"function",
                                            {{"name", content.tool->name},
                                             {"arguments", joined(content.argument_chunks)}}}}});
  }
  message["refusal"] = nullptr;
  message["annotations"] = ojson::array();
  ojson body{{"id", id},
             {"object", "chat.completion"},
             {"created", created},
             {"model", req.model},
             {"choices", ojson::array({{{"index", 0},
                                        {"message", message},
                                        {"logprobs", nullptr},
                                        {"finish_reason", content.tool ? "tool_calls" : "stop"}}})}};
  if (!content.omit_usage) body["usage"] = usage_json(req, content);
  body["service_tier"] = "default";
  body["system_fingerprint"] = "fp_fake";

  reply_plan plan;
  plan.set_header("content-type", "application/json");
  plan.body = body.dump();
  return plan;
}

reply_plan streamed(const chat_request& req, const reply_content& content, const std::string& id,
                    std::time_t created) {
  const bool usage_chunks = req.include_usage && !content.omit_usage;
  // Every chunk shares id, created and model; with include_usage every chunk
  // but the last carries "usage": null.
  auto chunk = [&](ojson delta, const ojson& finish_reason) {
    ojson c{{"id", id},
            {"object", "chat.completion.chunk"},
            {"created", created},
            {"model", req.model},
            {"system_fingerprint", "fp_fake"},
            {"choices", ojson::array({{{"index", 0},
                                       {"delta", std::move(delta)},
                                       {"logprobs", nullptr},
                                       {"finish_reason", finish_reason}}})}};
    if (usage_chunks) c["usage"] = nullptr;
    return c;
  };

  reply_plan plan;
  plan.streamed = true;
  plan.set_header("content-type", sse_content_type);
  plan.set_header("cache-control", "no-cache");
  auto& events = plan.events;

  const ojson tool_header{{"index", 0},
                          {"id", fake_id("call_", content.serial)},
                          {"type", "function"},
                          {"function", {{"name", content.tool ? content.tool->name : ""}, {"arguments", ""}}}};
  if (!content.text_chunks.empty() || !content.tool) {
    events.push_back({data_frame(chunk({{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr)), false});
    for (const auto& piece : content.text_chunks)
      events.push_back({data_frame(chunk({{"content", piece}}, nullptr)), true});
    if (content.tool)
      events.push_back({data_frame(chunk({{"tool_calls", ojson::array({tool_header})}}, nullptr)), false});
  } else {
    // A bare tool call opens with the role and the call's id and name together.
    events.push_back({data_frame(chunk({{"role", "assistant"},
                                        {"content", nullptr},
                                        {"tool_calls", ojson::array({tool_header})},
                                        {"refusal", nullptr}},
                                       nullptr)),
                      false});
  }
  for (const auto& piece : content.argument_chunks)
    events.push_back(
        {data_frame(chunk({{"tool_calls", ojson::array({{{"index", 0}, {"function", {{"arguments", piece}}}}})}},
                          nullptr)),
         true});
  events.push_back({data_frame(chunk(ojson::object(), content.tool ? "tool_calls" : "stop")), false});
  if (usage_chunks) {
    ojson last{{"id", id},
               {"object", "chat.completion.chunk"},
               {"created", created},
               {"model", req.model},
               {"system_fingerprint", "fp_fake"},
               {"choices", ojson::array()},
               {"usage", usage_json(req, content)}};
    events.push_back({data_frame(last), false});
  }
  events.push_back({"data: [DONE]\n\n", false});
  return plan;
}

}  // namespace

std::string openai_api_key(const recorded_request& req) {
  const std::string auth = req.header("authorization");
  constexpr std::string_view bearer = "Bearer ";
  if (auth.size() > bearer.size() && auth.compare(0, bearer.size(), bearer) == 0) return auth.substr(bearer.size());
  return {};
}

std::optional<rejection> openai_check_headers(const recorded_request& req) {
  if (!openai_api_key(req).empty()) return std::nullopt;
  return rejection{401, openai_error_body(401, "missing_api_key")};
}

chat_request openai_read_request(const nlohmann::json& body) {
  if (!body.is_object()) throw std::invalid_argument("We could not parse the JSON body of your request.");
  if (!body.contains("model") || !body["model"].is_string())
    throw std::invalid_argument("you must provide a model parameter");
  if (!body.contains("messages") || !body["messages"].is_array())
    throw std::invalid_argument("Missing required parameter: 'messages'.");
  chat_request req;
  req.model = body["model"].get<std::string>();
  req.stream = body.value("stream", false);
  if (body.contains("stream_options") && body["stream_options"].is_object())
    req.include_usage = body["stream_options"].value("include_usage", false);
  req.offers_tools = body.contains("tools") && body["tools"].is_array() && !body["tools"].empty();
  for (const auto& message : body["messages"])
    if (message.is_object() && message.contains("content")) req.prompt_tokens += words_in_content(message["content"]);
  return req;
}

reply_plan openai_success(const chat_request& req, const reply_content& content) {
  const std::string id = fake_id("chatcmpl-fake", content.serial);
  const std::time_t created = std::time(nullptr);
  reply_plan plan = req.stream ? streamed(req, content, id, created) : non_streamed(req, content, id, created);
  add_default_headers(plan, content.serial);
  return plan;
}

std::string openai_error_body(int status, std::string_view code, std::string_view message) {
  auto envelope = [&](std::string_view default_message, const char* type, ojson param, ojson code_value) {
    return ojson{{"error",
                  {{"message", message.empty() ? std::string(default_message) : std::string(message)},
                   {"type", type},
                   {"param", std::move(param)},
                   {"code", std::move(code_value)}}}}
        .dump();
  };
  switch (status) {
    case 400:
      if (code == "context_length_exceeded")
        return envelope(
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130017 "
            "tokens. Please reduce the length of the messages.",
            "invalid_request_error", "messages", "context_length_exceeded");
      return envelope("Invalid request.", "invalid_request_error", nullptr,
                      code.empty() ? ojson(nullptr) : ojson(std::string(code)));
    case 401:
      if (code == "missing_api_key")
        return envelope(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using "
            "Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error", nullptr, nullptr);
      return envelope(
          "Incorrect API key provided: sk-fake***********wxyz. You can find your API key at "
          "https://platform.openai.com/account/api-keys.",
          "invalid_request_error", nullptr, "invalid_api_key");
    case 402:
      // OpenAI itself never sends 402; OpenRouter does, with a numeric code.
      return ojson{{"error",
                    {{"message", message.empty() ? "Insufficient credits. Add more using https://openrouter.ai/credits"
                                                 : std::string(message)},
                     {"code", 402}}}}
          .dump();
    case 403:
      return envelope("Country, region, or territory not supported", "request_forbidden", nullptr,
                      "unsupported_country_region_territory");
    case 404:
      return envelope("The model `fake-model` does not exist or you do not have access to it.",
                      "invalid_request_error", nullptr, "model_not_found");
    case 429:
      if (code == "insufficient_quota")
        return envelope(
            "You exceeded your current quota, please check your plan and billing details. For more information "
            "on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "insufficient_quota", nullptr, "insufficient_quota");
      return envelope(
          "Rate limit reached for gpt-4o in organization org-fake on requests per min (RPM): Limit 500, Used "
          "500, Requested 1. Please try again in 120ms. Visit https://platform.openai.com/account/rate-limits "
          "to learn more.",
          "requests", nullptr, "rate_limit_exceeded");
    case 500:
      return envelope("The server had an error while processing your request. Sorry about that!", "server_error",
                      nullptr, nullptr);
    case 502:
      return envelope("Bad gateway.", "cf_bad_gateway", nullptr, 502);
    case 503:
      return envelope("The engine is currently overloaded, please try again later", "server_error", nullptr,
                      nullptr);
    default:
      return envelope("HTTP " + std::to_string(status), status < 500 ? "invalid_request_error" : "server_error",
                      nullptr, code.empty() ? ojson(nullptr) : ojson(std::string(code)));
  }
}

}  // namespace sb::fakes
