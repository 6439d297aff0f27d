#include "tests/fakes/request_router.hpp"

#include <nlohmann/json.hpp>

#include "tests/fakes/fake_formats.hpp"
#include "tests/fakes/text_chunks.hpp"

namespace sb::fakes {

namespace {

std::string api_key_of(wire_format format, const recorded_request& req) {
  switch (format) {
    case wire_format::openai: return openai_api_key(req);
    case wire_format::anthropic: return anthropic_api_key(req);
    case wire_format::gemini: return gemini_api_key(req);
  }
  return {};
}

std::optional<rejection> check_headers(wire_format format, const recorded_request& req) {
  switch (format) {
    case wire_format::openai: return openai_check_headers(req);
    case wire_format::anthropic: return anthropic_check_headers(req);
    case wire_format::gemini: return gemini_check_headers(req);
  }
  return std::nullopt;
}

chat_request read_request(wire_format format, const nlohmann::json& body, const std::string& target) {
  switch (format) {
    case wire_format::openai: return openai_read_request(body);
    case wire_format::anthropic: return anthropic_read_request(body);
    case wire_format::gemini: return gemini_read_request(body, target);
  }
  return {};
}

std::string format_error_body(wire_format format, int status, std::string_view message) {
  switch (format) {
    case wire_format::openai: return openai_error_body(status, {}, message);
    case wire_format::anthropic: return anthropic_error_body(status, {}, message);
    case wire_format::gemini: return gemini_error_body(status, {}, message);
  }
  return {};
}

reply_plan success(wire_format format, const chat_request& chat, const reply_content& content) {
  switch (format) {
    case wire_format::openai: return openai_success(chat, content);
    case wire_format::anthropic: return anthropic_success(chat, content);
    case wire_format::gemini: return gemini_success(chat, content);
  }
  return {};
}

reply_plan error_plan(wire_format format, int status, std::string body) {
  reply_plan plan = json_plan(status, std::move(body));
  if (format == wire_format::gemini) plan.set_header("content-type", "application/json; charset=UTF-8");
  return plan;
}

reply_plan plan_for(provider_state& state, wire_format format, const chat_request& chat,
                    const scripted_reply& reply) {
  const fake_options& options = state.options();
  reply_plan plan;
  if (reply.hang) {
    plan.hang = true;
    return plan;
  }
  if (reply.status < 200 || reply.status >= 300 || reply.body) {
    plan = error_plan(format, reply.status, reply.body ? *reply.body : error_body(format, reply.status));
  } else {
    reply_content content;
    content.serial = state.next_serial();
    content.omit_usage = reply.omit_usage;
    const int chunks = reply.chunks.value_or(options.chunks);
    if (reply.tool_call && chat.offers_tools) {
      content.tool = reply.tool_call;
      content.argument_chunks = split_into_chunks(reply.tool_call->arguments_json, chunks);
      if (reply.text) content.text_chunks = split_into_chunks(*reply.text, chunks);
    } else {
      content.text_chunks = split_into_chunks(reply.text.value_or(options.text), chunks);
    }
    plan = success(format, chat, content);
    plan.status = reply.status;
  }
  for (const auto& [name, value] : reply.headers) plan.set_header(name, value);
  plan.head_delay = reply.head_delay;
  plan.chunk_delay = reply.chunk_delay.value_or(options.chunk_delay);
  plan.reset_after_chunks = reply.reset_after_chunks;
  return plan;
}

}  // namespace

reply_plan answer(provider_state& state, recorded_request request) {
  if (request.target.rfind("/__fake/", 0) == 0) return answer_control(state, request);

  request.format = wire_format_of_target(request.target);
  if (!request.format)
    return json_plan(404, nlohmann::json{{"error", {{"message", "fake provider: no API at " + request.target}}}}.dump());
  if (request.method != "POST")
    return json_plan(405, nlohmann::json{{"error", {{"message", "fake provider: use POST"}}}}.dump());
  const wire_format format = *request.format;
  request.api_key = api_key_of(format, request);

  std::optional<rejection> rejected = check_headers(format, request);
  chat_request chat;
  if (!rejected) {
    const auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded()) {
      rejected = rejection{400, format_error_body(format, 400, "The request body is not valid JSON.")};
    } else {
      try {
        chat = read_request(format, body, request.target);
      } catch (const std::invalid_argument& e) {
        rejected = rejection{400, format_error_body(format, 400, e.what())};
      }
    }
  }
  const std::string api_key = request.api_key;
  // Rejected requests are recorded too: tests assert on what the gateway sent.
  state.record(std::move(request));
  if (rejected) return error_plan(format, rejected->status, std::move(rejected->body));

  // A rejection above leaves the scripts for the next well-formed request.
  const std::optional<scripted_reply> scripted = state.take_script(api_key);
  return plan_for(state, format, chat, scripted ? *scripted : scripted_reply{});
}

}  // namespace sb::fakes
