// Error replies per format and the JSON form of a scripted reply, shared by
// the C++ API and the HTTP control endpoint so both script the same way.

#include "tests/fakes/scripted_reply.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tests/fakes/fake_formats.hpp"

namespace sb::fakes {

std::string error_body(wire_format format, int status, std::string_view code) {
  switch (format) {
    case wire_format::openai: return openai_error_body(status, code);
    case wire_format::anthropic: return anthropic_error_body(status, code);
    case wire_format::gemini: return gemini_error_body(status, code);
  }
  return {};
}

scripted_reply error_reply(wire_format format, int status, std::string_view code) {
  scripted_reply reply;
  reply.status = status;
  reply.body = error_body(format, status, code);
  reply.headers.emplace_back("content-type", format == wire_format::gemini ? "application/json; charset=UTF-8"
                                                                           : "application/json");
  return reply;
}

namespace {

template <class T>
T field(const nlohmann::json& j, const char* name, T fallback) {
  if (!j.contains(name) || j[name].is_null()) return fallback;
  try {
    return j[name].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument(std::string("scripted reply: field '") + name + "' has the wrong type");
  }
}

}  // namespace

scripted_reply from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("scripted reply: expected a JSON object");
  scripted_reply reply;
  if (j.contains("format") || j.contains("error_status")) {
    const auto format = wire_format_from_name(field<std::string>(j, "format", ""));
    if (!format) throw std::invalid_argument("scripted reply: 'format' must be openai, anthropic or gemini");
    const int status = field<int>(j, "error_status", 0);
    if (status < 400) throw std::invalid_argument("scripted reply: 'error_status' must be >= 400");
    reply = error_reply(*format, status, field<std::string>(j, "error_code", ""));
  }
  reply.status = field<int>(j, "status", reply.status);
  if (j.contains("headers")) {
    if (!j["headers"].is_object()) throw std::invalid_argument("scripted reply: 'headers' must be an object");
    for (const auto& [name, value] : j["headers"].items())
      reply.headers.emplace_back(name, value.is_string() ? value.get<std::string>() : value.dump());
  }
  if (j.contains("body")) reply.body = j["body"].is_string() ? j["body"].get<std::string>() : j["body"].dump();
  if (j.contains("text")) reply.text = field<std::string>(j, "text", "");
  if (j.contains("chunks")) reply.chunks = field<int>(j, "chunks", 1);
  reply.head_delay = std::chrono::milliseconds(field<long>(j, "head_delay_ms", 0));
  if (j.contains("chunk_delay_ms")) reply.chunk_delay = std::chrono::milliseconds(field<long>(j, "chunk_delay_ms", 0));
  reply.reset_after_chunks = field<int>(j, "reset_after_chunks", -1);
  if (j.contains("tool_call")) {
    const auto& call = j["tool_call"];
    if (!call.is_object() || !call.contains("name"))
      throw std::invalid_argument("scripted reply: 'tool_call' needs a name");
    tool_call tc;
    tc.name = field<std::string>(call, "name", "");
    if (call.contains("arguments"))
      tc.arguments_json = call["arguments"].is_string() ? call["arguments"].get<std::string>() : call["arguments"].dump();
    reply.tool_call = tc;
  }
  reply.omit_usage = field<bool>(j, "omit_usage", false);
  reply.hang = field<bool>(j, "hang", false);
  return reply;
}

scripted_reply parse_scripted_reply(std::string_view json_text) {
  auto j = nlohmann::json::parse(json_text, nullptr, false);
  if (j.is_discarded()) throw std::invalid_argument("scripted reply: body is not JSON");
  return from_json(j);
}

}  // namespace sb::fakes
