// OpenAI chat request -> Gemini GenerateContentRequest.
#include <map>

#include "providers/gemini_adapter.hpp"
#include "providers/gemini_schema.hpp"
#include "providers/openai_shapes.hpp"

namespace sb::providers {

using nlohmann::json;

namespace {

// Gemini wants alternating "user" / "model" turns: consecutive messages of one
// role (tool results and the user's next words) become one content.
class content_list {
 public:
  void add(const char* role, json part) {
    if (contents_.empty() || contents_.back()["role"] != role)
      contents_.push_back({{"role", role}, {"parts", json::array()}});
    contents_.back()["parts"].push_back(std::move(part));
  }
  json take() { return std::move(contents_); }

 private:
  json contents_ = json::array();
};

// Only inline (data:) images can be sent: Gemini's fileData needs its own uploads.
void add_content(content_list& contents, const char* role, const json& content) {
  if (content.is_string()) {
    if (!content.get_ref<const std::string&>().empty()) contents.add(role, {{"text", content}});
    return;
  }
  if (!content.is_array()) return;
  for (const auto& part : content) {
    std::string type = string_field(part, "type");
    if (type == "text") {
      std::string text = string_field(part, "text");
      if (!text.empty()) contents.add(role, {{"text", std::move(text)}});
    } else if (type == "image_url") {
      const json& image = member(part, "image_url");
      std::string url = image.is_string() ? image.get<std::string>() : string_field(image, "url");
      auto at = url.find(";base64,");
      if (url.rfind("data:", 0) == 0 && at != std::string::npos) {
        contents.add(role, {{"inlineData", {{"mimeType", url.substr(5, at - 5)},
                                            {"data", url.substr(at + 8)}}}});
      }
    }
  }
}

// Gemini's functionResponse.response must be an object.
json response_object(const json& content) {
  std::string text = content_text(content);
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) return parsed;
  return {{"result", parsed.is_discarded() ? json(text) : parsed}};
}

json translate_tools(const json& tools) {
  json declarations = json::array();
  for (const auto& tool : tools) {
    const json& f = member(tool, "function");
    if (!f.is_object()) continue;
    json d = {{"name", string_field(f, "name")}};
    if (f.contains("description")) d["description"] = f["description"];
    const json& params = member(f, "parameters");
    // Gemini rejects an OBJECT schema without properties: a tool with no
    // arguments simply has no parameters.
    if (params.is_object() && !member(params, "properties").empty())
      d["parameters"] = gemini_schema(params);
    declarations.push_back(std::move(d));
  }
  return json::array({{{"functionDeclarations", std::move(declarations)}}});
}

json translate_tool_choice(const json& choice) {
  json config = {{"mode", "AUTO"}};
  if (choice.is_string()) {
    if (choice == "none") config["mode"] = "NONE";
    if (choice == "required") config["mode"] = "ANY";
  } else if (choice.is_object() && choice.contains("function")) {
    config["mode"] = "ANY";
    config["allowedFunctionNames"] = json::array({string_field(choice["function"], "name")});
  }
  return {{"functionCallingConfig", std::move(config)}};
}

json generation_config(const json& request) {
  json config = json::object();
  if (auto max = requested_max_tokens(request)) config["maxOutputTokens"] = *max;
  const json& temperature = member(request, "temperature");
  if (temperature.is_number()) config["temperature"] = temperature;
  const json& top_p = member(request, "top_p");
  if (top_p.is_number()) config["topP"] = top_p;
  json stops = stop_list(member(request, "stop"));
  if (!stops.empty()) config["stopSequences"] = std::move(stops);
  const json& seed = member(request, "seed");
  if (seed.is_number_integer()) config["seed"] = seed;
  const json& format = member(request, "response_format");
  std::string format_type = string_field(format, "type");
  if (format_type == "json_object" || format_type == "json_schema") {
    config["responseMimeType"] = "application/json";
    const json& schema = member(member(format, "json_schema"), "schema");
    if (schema.is_object()) config["responseSchema"] = gemini_schema(schema);
  }
  return config;
}

}  // namespace

json to_gemini_request(const json& request) {
  json out = json::object();
  std::string system;
  content_list contents;
  // Gemini names a function's result by the function, OpenAI by the call id.
  std::map<std::string, std::string> call_names;
  for (const auto& m : member(request, "messages")) {
    if (!m.is_object()) continue;
    std::string role = string_field(m, "role");
    const json& content = member(m, "content");
    if (role == "system" || role == "developer") {
      std::string text = content_text(content);
      if (text.empty()) continue;
      if (!system.empty()) system += "\n\n";
      system += text;
    } else if (role == "user") {
      add_content(contents, "user", content);
    } else if (role == "assistant") {
      add_content(contents, "model", content);
      for (const auto& call : member(m, "tool_calls")) {
        const json& f = member(call, "function");
        std::string name = string_field(f, "name");
        call_names[string_field(call, "id")] = name;
        contents.add("model", {{"functionCall", {{"name", name}, {"args", arguments_object(member(f, "arguments"))}}}});
      }
    } else if (role == "tool") {
      auto known = call_names.find(string_field(m, "tool_call_id"));
      std::string name = known != call_names.end() ? known->second : string_field(m, "name");
      contents.add("user", {{"functionResponse", {{"name", name}, {"response", response_object(content)}}}});
    }
  }
  out["contents"] = contents.take();
  if (!system.empty()) out["systemInstruction"] = {{"parts", json::array({{{"text", system}}})}};
  json config = generation_config(request);
  if (!config.empty()) out["generationConfig"] = std::move(config);
  const json& tools = member(request, "tools");
  if (tools.is_array() && !tools.empty()) {
    out["tools"] = translate_tools(tools);
    const json& choice = member(request, "tool_choice");
    if (!choice.is_null()) out["toolConfig"] = translate_tool_choice(choice);
  }
  return out;
}

}  // namespace sb::providers
