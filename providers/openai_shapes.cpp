#include "providers/openai_shapes.hpp"

namespace sb::providers {

using nlohmann::json;

json make_chunk(const std::string& id, std::int64_t created, const std::string& model, json delta,
                const json& finish_reason) {
  json choice = {{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish_reason}};
  return {{"id", id},
          {"object", "chat.completion.chunk"},
          {"created", created},
          {"model", model},
          {"choices", json::array({std::move(choice)})}};
}

json make_usage_chunk(const std::string& id, std::int64_t created, const std::string& model,
                      const token_usage& usage) {
  return {{"id", id},
          {"object", "chat.completion.chunk"},
          {"created", created},
          {"model", model},
          {"choices", json::array()},
          {"usage", usage_object(usage)}};
}

json usage_object(const token_usage& usage) {
  return {{"prompt_tokens", usage.prompt_tokens},
          {"completion_tokens", usage.completion_tokens},
          {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
}

std::string content_text(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string text;
  if (!content.is_array()) return text;
  for (const auto& part : content) {
    if (part.is_string()) {
      text += part.get<std::string>();
    } else if (string_field(part, "type") == "text") {
      text += string_field(part, "text");
    }
  }
  return text;
}

json arguments_object(const json& arguments) {
  if (arguments.is_object()) return arguments;
  if (!arguments.is_string()) return json::object();
  json parsed = json::parse(arguments.get<std::string>(), nullptr, /*allow_exceptions=*/false);
  return parsed.is_object() ? parsed : json::object();
}

std::optional<std::int64_t> requested_max_tokens(const json& request) {
  for (const char* key : {"max_completion_tokens", "max_tokens"}) {
    auto it = request.find(key);
    if (it != request.end() && it->is_number()) return it->get<std::int64_t>();
  }
  return std::nullopt;
}

json stop_list(const json& stop) {
  if (stop.is_string()) return json::array({stop});
  if (stop.is_array()) return stop;
  return json::array();
}

std::int64_t as_int(const json& v) {
  if (v.is_number()) return v.get<std::int64_t>();
  if (v.is_string()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

const json& member(const json& obj, const char* key) {
  static const json null_value;
  if (!obj.is_object()) return null_value;
  auto it = obj.find(key);
  return it != obj.end() ? *it : null_value;
}

std::string string_field(const json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

}  // namespace sb::providers
