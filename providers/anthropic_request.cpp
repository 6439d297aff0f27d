// OpenAI chat request -> Anthropic Messages request.
#include <algorithm>

#include "providers/anthropic_adapter.hpp"
#include "providers/openai_shapes.hpp"

namespace sb::providers {

using nlohmann::json;

namespace {

// Anthropic requires max_tokens; OpenAI clients usually leave it out.
constexpr std::int64_t default_max_tokens = 4096;

// Anthropic wants strictly alternating roles, so consecutive messages of one
// role (e.g. several tool results, then the user's next words) become one.
class turn_list {
 public:
  void add(const char* role, json block) {
    if (messages_.empty() || messages_.back()["role"] != role)
      messages_.push_back({{"role", role}, {"content", json::array()}});
    messages_.back()["content"].push_back(std::move(block));
  }
  json take() { return std::move(messages_); }

 private:
  json messages_ = json::array();
};

json text_block(std::string text) { return {{"type", "text"}, {"text", std::move(text)}}; }

// data:image/png;base64,AAAA -> a base64 source; anything else -> a URL source.
json image_block(const std::string& url) {
  const std::string marker = ";base64,";
  if (url.rfind("data:", 0) == 0) {
    auto at = url.find(marker);
    if (at != std::string::npos) {
      return {{"type", "image"},
              {"source", {{"type", "base64"},
                          {"media_type", url.substr(5, at - 5)},
                          {"data", url.substr(at + marker.size())}}}};
    }
  }
  return {{"type", "image"}, {"source", {{"type", "url"}, {"url", url}}}};
}

// A user or assistant message's content as blocks; empty text is dropped
// because Anthropic rejects empty text blocks.
void add_content(turn_list& turns, const char* role, const json& content) {
  if (content.is_string()) {
    if (!content.get_ref<const std::string&>().empty()) turns.add(role, text_block(content));
    return;
  }
  if (!content.is_array()) return;
  for (const auto& part : content) {
    std::string type = string_field(part, "type");
    if (type == "text") {
      std::string text = string_field(part, "text");
      if (!text.empty()) turns.add(role, text_block(std::move(text)));
    } else if (type == "image_url" && part.contains("image_url")) {
      const json& image = part["image_url"];
      std::string url = image.is_string() ? image.get<std::string>() : string_field(image, "url");
      if (!url.empty()) turns.add(role, image_block(url));
    }
  }
}

void add_tool_calls(turn_list& turns, const json& tool_calls) {
  if (!tool_calls.is_array()) return;
  for (const auto& call : tool_calls) {
    const json& function = call.value("function", json::object());
    turns.add("assistant", {{"type", "tool_use"},
                            {"id", string_field(call, "id")},
                            {"name", string_field(function, "name")},
                            {"input", arguments_object(function.value("arguments", json()))}});
  }
}

void add_tool_result(turn_list& turns, const json& message) {
  json block = {{"type", "tool_result"}, {"tool_use_id", string_field(message, "tool_call_id")}};
  std::string text = content_text(message.value("content", json()));
  if (!text.empty()) block["content"] = std::move(text);
  turns.add("user", std::move(block));
}

json translate_tools(const json& tools) {
  json out = json::array();
  for (const auto& tool : tools) {
    if (!tool.is_object() || !tool.contains("function")) continue;
    const json& f = tool["function"];
    json t = {{"name", string_field(f, "name")}};
    if (f.contains("description")) t["description"] = f["description"];
    json schema = f.value("parameters", json());
    t["input_schema"] = schema.is_object() ? schema : json{{"type", "object"}, {"properties", json::object()}};
    out.push_back(std::move(t));
  }
  return out;
}

// auto / none / required -> any / {function:{name}} -> {type: tool, name}.
json translate_tool_choice(const json& choice) {
  if (choice.is_string()) {
    const auto& s = choice.get_ref<const std::string&>();
    if (s == "required") return {{"type", "any"}};
    if (s == "none") return {{"type", "none"}};
    return {{"type", "auto"}};
  }
  if (choice.is_object() && choice.contains("function"))
    return {{"type", "tool"}, {"name", string_field(choice["function"], "name")}};
  return {{"type", "auto"}};
}

}  // namespace

json to_anthropic_request(const json& request, const std::string& model, bool stream) {
  json out = {{"model", model}};
  std::string system;
  turn_list turns;
  const json& messages = member(request, "messages");
  for (const auto& m : messages) {
    if (!m.is_object()) continue;
    std::string role = string_field(m, "role");
    const json& content = member(m, "content");
    if (role == "system" || role == "developer") {
      std::string text = content_text(content);
      if (text.empty()) continue;
      if (!system.empty()) system += "\n\n";
      system += text;
    } else if (role == "user") {
      add_content(turns, "user", content);
    } else if (role == "assistant") {
      add_content(turns, "assistant", content);
      if (m.contains("tool_calls")) add_tool_calls(turns, m["tool_calls"]);
    } else if (role == "tool") {
      add_tool_result(turns, m);
    }
  }
  if (!system.empty()) out["system"] = std::move(system);
  out["messages"] = turns.take();
  out["max_tokens"] = requested_max_tokens(request).value_or(default_max_tokens);

  if (request.contains("stop")) {
    json stops = stop_list(request["stop"]);
    if (!stops.empty()) out["stop_sequences"] = std::move(stops);
  }
  if (request.contains("temperature") && request["temperature"].is_number()) {
    // OpenAI's range is 0..2, Anthropic's 0..1: clamp rather than fail the call.
    out["temperature"] = std::clamp(request["temperature"].get<double>(), 0.0, 1.0);
  }
  if (request.contains("top_p") && request["top_p"].is_number()) out["top_p"] = request["top_p"];

  if (request.contains("tools") && request["tools"].is_array() && !request["tools"].empty()) {
    out["tools"] = translate_tools(request["tools"]);
    json choice = translate_tool_choice(request.value("tool_choice", json("auto")));
    auto parallel = request.find("parallel_tool_calls");
    bool serial = parallel != request.end() && parallel->is_boolean() && !parallel->get<bool>();
    if (serial && choice["type"] != "none")
      choice["disable_parallel_tool_use"] = true;
    out["tool_choice"] = std::move(choice);
  }
  std::string user = string_field(request, "user");
  if (!user.empty()) out["metadata"] = {{"user_id", user}};
  if (stream) out["stream"] = true;
  return out;
}

}  // namespace sb::providers
