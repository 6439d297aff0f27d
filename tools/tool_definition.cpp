#include "tools/tool_definition.hpp"

#include <cctype>

#include "core/config_json_reader.hpp"

namespace sb::tools {
namespace {

using nlohmann::json;

bool has_space_or_control(const std::string& s) {
  for (unsigned char c : s)
    if (std::isspace(c) || std::iscntrl(c)) return true;
  return false;
}

bool starts_with_ci(const std::string& s, const char* prefix) {
  std::size_t i = 0;
  for (; prefix[i] != '\0'; ++i)
    if (i >= s.size() || std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

/// Once the name is known, every later error says which tool it is about.
config_error about_tool(config_error e, const std::string& name) {
  e.problem += " (tool \"" + name + "\")";
  return e;
}

std::variant<compiled_schema, config_error> read_schema(const json& schema, const std::string& path) {
  auto compiled = compiled_schema::compile(schema);
  if (auto* error = std::get_if<schema_error>(&compiled))
    return config_error{path, "not a valid JSON Schema: " + error->to_string()};
  return std::get<compiled_schema>(std::move(compiled));
}

}  // namespace

bool is_valid_tool_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (unsigned char c : name)
    if (!(std::isalnum(c) || c == '_' || c == '-')) return false;
  return true;
}

std::optional<std::string> endpoint_url_problem(const std::string& url) {
  std::size_t scheme_len = starts_with_ci(url, "https://") ? 8 : starts_with_ci(url, "http://") ? 7 : 0;
  if (scheme_len == 0) return "expected a URL starting with http:// or https://";
  if (has_space_or_control(url)) return "the URL contains whitespace or a control character";
  std::size_t authority_end = url.find_first_of("/?#", scheme_len);
  std::string authority = url.substr(scheme_len, authority_end == std::string::npos ? std::string::npos
                                                                                    : authority_end - scheme_len);
  if (auto at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  std::string host = authority;
  std::string port;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8080
    auto close = authority.find(']');
    if (close == std::string::npos) return "unterminated IPv6 address in the URL";
    host = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return "unexpected text after the IPv6 address in the URL";
      port = authority.substr(close + 2);
      if (port.empty()) return "empty port in the URL";
    }
  } else if (auto colon = authority.find(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return "empty port in the URL";
  }
  if (host.empty() || host == "[]") return "expected a host after the scheme";
  if (!port.empty()) {
    if (port.size() > 5) return "the URL's port must be a number from 1 to 65535";
    long n = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return "the URL's port must be a number from 1 to 65535";
      n = n * 10 + (c - '0');
    }
    if (n < 1 || n > 65535) return "the URL's port must be a number from 1 to 65535";
  }
  return std::nullopt;
}

std::variant<tool_definition, config_error> read_tool_definition(const json& entry, std::size_t index) {
  const std::string path = index_path("tools", index);
  if (auto e = expect_object(entry, path)) return *e;
  object_reader r(entry, path);
  if (auto e = r.only_keys({"name", "description", "input_schema", "output_schema", "endpoint",
                            "sensitive", "timeout_ms"}))
    return *e;

  std::string name;
  if (!r.has("name")) return config_error{r.path_of("name"), "required"};
  if (auto e = r.string("name", name)) return *e;
  if (!is_valid_tool_name(name))
    return config_error{r.path_of("name"), "expected 1 to 64 letters, digits, '_' or '-', got " +
                                               describe_json(json(name))};

  std::string description;
  if (auto e = r.string("description", description)) return about_tool(*e, name);

  if (!r.has("input_schema")) return about_tool({r.path_of("input_schema"), "required"}, name);
  const json& input_schema = entry.at("input_schema");
  // Providers take a function's parameters as one JSON object.
  if (!input_schema.is_object() || input_schema.value("type", json()) != "object")
    return about_tool({r.path_of("input_schema"), "expected a JSON Schema with \"type\": \"object\""}, name);
  auto input = read_schema(input_schema, r.path_of("input_schema"));
  if (auto* e = std::get_if<config_error>(&input)) return about_tool(*e, name);

  std::optional<compiled_schema> output;
  if (r.has("output_schema")) {
    auto compiled = read_schema(entry.at("output_schema"), r.path_of("output_schema"));
    if (auto* e = std::get_if<config_error>(&compiled)) return about_tool(*e, name);
    output = std::get<compiled_schema>(std::move(compiled));
  }

  std::string endpoint;
  if (!r.has("endpoint")) return about_tool({r.path_of("endpoint"), "required"}, name);
  if (auto e = r.string("endpoint", endpoint)) return about_tool(*e, name);
  if (auto problem = endpoint_url_problem(endpoint))
    return about_tool({r.path_of("endpoint"), *problem}, name);

  bool sensitive = false;
  if (r.has("sensitive")) {
    const json& value = entry.at("sensitive");
    // A typo here must not quietly make an approval-gated tool run unasked.
    if (!value.is_boolean())
      return about_tool({r.path_of("sensitive"), "expected true or false, got " + describe_json(value)}, name);
    sensitive = value.get<bool>();
  }

  std::chrono::milliseconds timeout = default_tool_timeout;
  if (auto e = r.duration("timeout_ms", 1, max_tool_timeout_ms, timeout)) return about_tool(*e, name);

  json function = {{"name", name}};
  if (!description.empty()) function["description"] = description;
  function["parameters"] = input_schema;
  json openai_tool = {{"type", "function"}, {"function", std::move(function)}};

  return tool_definition{std::move(name),
                         std::move(description),
                         input_schema,
                         std::get<compiled_schema>(std::move(input)),
                         std::move(output),
                         std::move(endpoint),
                         sensitive,
                         timeout,
                         std::move(openai_tool)};
}

}  // namespace sb::tools
