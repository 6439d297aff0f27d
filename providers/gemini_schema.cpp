#include "providers/gemini_schema.hpp"

#include <array>
#include <string>
#include <string_view>

namespace sb::providers {

using nlohmann::json;

namespace {

// The fields of Gemini's Schema object (ai.google.dev/api/caching#Schema).
constexpr std::array<std::string_view, 22> known_fields = {
    "type",      "format",    "title",         "description",   "nullable",  "enum",
    "maxItems",  "minItems",  "properties",    "required",      "minProperties",
    "maxProperties", "minLength", "maxLength", "pattern",       "example",   "anyOf",
    "propertyOrdering", "default", "items",    "minimum",       "maximum"};

// Self-referencing schemas would otherwise inline forever.
constexpr int max_ref_depth = 8;

bool known(std::string_view key) {
  for (auto k : known_fields)
    if (k == key) return true;
  return false;
}

const json* resolve_ref(const json& root, const std::string& ref) {
  for (std::string_view prefix : {"#/$defs/", "#/definitions/"}) {
    if (ref.rfind(prefix, 0) != 0) continue;
    std::string name = ref.substr(prefix.size());
    std::string defs(prefix.substr(2, prefix.size() - 3));  // "$defs" or "definitions"
    auto d = root.find(defs);
    if (d == root.end() || !d->is_object()) return nullptr;
    auto it = d->find(name);
    return it != d->end() ? &*it : nullptr;
  }
  return nullptr;
}

json clean(const json& schema, const json& root, int depth) {
  if (!schema.is_object()) return schema;
  if (schema.contains("$ref") && schema["$ref"].is_string()) {
    const json* target = depth < max_ref_depth ? resolve_ref(root, schema["$ref"]) : nullptr;
    if (target) return clean(*target, root, depth + 1);
    return json{{"type", "object"}};
  }
  json out = json::object();
  for (auto it = schema.begin(); it != schema.end(); ++it) {
    const std::string& key = it.key();
    const json& value = it.value();
    if (key == "properties" && value.is_object()) {
      json props = json::object();
      for (auto p = value.begin(); p != value.end(); ++p) props[p.key()] = clean(p.value(), root, depth);
      out["properties"] = std::move(props);
    } else if (key == "items") {
      out["items"] = clean(value, root, depth);
    } else if ((key == "anyOf" || key == "oneOf") && value.is_array()) {
      json alts = json::array();
      for (const auto& alt : value) alts.push_back(clean(alt, root, depth));
      out["anyOf"] = std::move(alts);
    } else if (key == "type" && value.is_array()) {
      for (const auto& t : value) {
        if (t == "null") {
          out["nullable"] = true;
        } else if (!out.contains("type")) {
          out["type"] = t;
        }
      }
    } else if (key == "const") {
      out["enum"] = json::array({value});
    } else if (known(key)) {
      out[key] = value;
    }
  }
  return out;
}

}  // namespace

json gemini_schema(const json& json_schema) { return clean(json_schema, json_schema, 0); }

}  // namespace sb::providers
