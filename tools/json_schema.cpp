// Validates instances against a compiled schema (see json_schema.hpp); the
// compiler lives in json_schema_compiler.cpp.

#include "tools/json_schema.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "tools/json_pointer.hpp"
#include "tools/json_schema_graph.hpp"

namespace sb::tools {
namespace {

using detail::compiled_pattern;
using detail::node_index;
using detail::schema_graph;
using detail::schema_node;
using nlohmann::json;

bool is_integer(const json& v) {
  if (v.is_number_integer()) return true;  // signed and unsigned
  if (!v.is_number_float()) return false;
  double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

bool has_type(std::uint8_t types, const json& v) {
  switch (v.type()) {
    case json::value_t::null: return types & detail::type_null;
    case json::value_t::boolean: return types & detail::type_boolean;
    case json::value_t::string: return types & detail::type_string;
    case json::value_t::array: return types & detail::type_array;
    case json::value_t::object: return types & detail::type_object;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return (types & detail::type_number) || ((types & detail::type_integer) && is_integer(v));
    default: return false;  // binary and discarded values are not JSON
  }
}

// The value's type only, never the value: messages go to logs and models.
const char* type_of(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::string: return "string";
    case json::value_t::array: return "array";
    case json::value_t::object: return "object";
    case json::value_t::number_float: return is_integer(v) ? "integer" : "number";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    default: return "non-JSON value";
  }
}

std::size_t count_code_points(const std::string& utf8) {
  std::size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;  // count all but continuation bytes
  return n;
}

std::string quoted(const std::string& s) { return json(s).dump(); }

// Schema values in messages are the schema author's, but may be long.
std::string short_dump(const json& v) {
  std::string text = v.dump();
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

enum class match { yes, no, unknown };

match search(const compiled_pattern& pattern, const std::string& text) {
  if (text.size() > max_pattern_input_bytes) return match::unknown;
  try {
    return std::regex_search(text, pattern.regex) ? match::yes : match::no;
  } catch (const std::regex_error&) {  // error_complexity / error_stack
    return match::unknown;
  }
}

class validator {
 public:
  validator(const schema_graph& graph, std::vector<validation_error>* out)
      : graph_(graph), out_(out) {}

  bool check(node_index n, const json& v) {
    const schema_node& node = graph_.nodes[n];
    if (node.always) return *node.always || report("false", "no value is allowed here");
    if (node.ref) return check(*node.ref, v);

    bool ok = true;
    // Each keyword: on failure, record and go on when collecting, else stop.
    auto keep_going = [&](bool passed) {
      ok = ok && passed;
      return passed || out_ != nullptr;
    };
    if (node.types && !keep_going(has_type(node.types, v) ||
                                  report("type", "expected " + node.type_text + ", got " + type_of(v))))
      return false;
    if (node.const_value && !keep_going(*node.const_value == v ||
                                        report("const", "must be " + short_dump(*node.const_value))))
      return false;
    if (node.enum_values) {
      const auto& values = *node.enum_values;
      bool found = std::any_of(values.begin(), values.end(), [&](const json& e) { return e == v; });
      if (!keep_going(found || report("enum", "must be one of " + short_dump(values)))) return false;
    }
    switch (v.type()) {
      case json::value_t::object: ok = check_object(node, v) && ok; break;
      case json::value_t::array: ok = check_array(node, v) && ok; break;
      case json::value_t::string: ok = check_string(node, v) && ok; break;
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
      case json::value_t::number_float: ok = check_number(node, v) && ok; break;
      default: break;
    }
    if (!ok && !out_) return false;
    return check_combinators(node, v) && ok;
  }

 private:
  const schema_graph& graph_;
  std::vector<validation_error>* out_;  // null: stop at the first failure
  std::string path_;
  std::size_t depth_ = 0;  // levels descended into the value

  // Always returns false, so that `passed || report(...)` reads as one check.
  bool report(const char* keyword, std::string message) {
    if (out_) out_->push_back(validation_error{path_, keyword, std::move(message)});
    return false;
  }

  // Descends into a member or item; the path is only built when collecting.
  template <class Key>
  bool check_child(node_index n, const json& v, const Key& key) {
    std::size_t size = path_.size();
    if (out_) {
      if constexpr (std::is_same_v<Key, std::size_t>)
        append_pointer_index(path_, key);
      else
        append_pointer_token(path_, key);
    }
    bool ok = false;
    // Only a recursive schema follows the value down; a value nested deeper
    // than any real tool call must not take the stack with it.
    if (depth_ >= max_instance_depth) {
      report("depth", "nested deeper than " + std::to_string(max_instance_depth) + " levels");
    } else {
      ++depth_;
      ok = check(n, v);
      --depth_;
    }
    path_.resize(size);
    return ok;
  }

  // Runs a subschema for its answer only (anyOf, oneOf, not).
  bool passes(node_index n, const json& v) {
    auto* saved = out_;
    out_ = nullptr;
    bool ok = check(n, v);
    out_ = saved;
    return ok;
  }

  bool check_object(const schema_node& node, const json& v) {
    bool ok = true;
    for (const auto& name : node.required)
      if (!v.contains(name)) {
        ok = report("required", "missing required property " + quoted(name));
        if (!out_) return false;
      }
    if (node.min_properties && v.size() < *node.min_properties) {
      ok = report("minProperties", "must have at least " + std::to_string(*node.min_properties) + " properties");
      if (!out_) return false;
    }
    if (node.max_properties && v.size() > *node.max_properties) {
      ok = report("maxProperties", "must have at most " + std::to_string(*node.max_properties) + " properties");
      if (!out_) return false;
    }
    if (node.properties.empty() && node.pattern_properties.empty() && !node.additional_properties)
      return ok;
    for (auto member = v.begin(); member != v.end(); ++member) {
      const std::string& key = member.key();
      bool matched = false;
      auto prop = std::lower_bound(node.properties.begin(), node.properties.end(), key,
                                   [](const auto& p, const std::string& k) { return p.first < k; });
      if (prop != node.properties.end() && prop->first == key) {
        matched = true;
        if (!check_child(prop->second, member.value(), key)) {
          ok = false;
          if (!out_) return false;
        }
      }
      for (const auto& [pattern, index] : node.pattern_properties) {
        match m = search(pattern, key);
        if (m == match::no) continue;
        if (m == match::unknown) {
          ok = report("patternProperties", "property name too long to match " + quoted(pattern.source));
          if (!out_) return false;
          continue;
        }
        matched = true;
        if (!check_child(index, member.value(), key)) {
          ok = false;
          if (!out_) return false;
        }
      }
      if (matched || !node.additional_properties) continue;
      const auto& extra = graph_.nodes[*node.additional_properties];
      bool passed = extra.always == false
                        ? report("additionalProperties", "property " + quoted(key) + " is not allowed")
                        : check_child(*node.additional_properties, member.value(), key);
      if (!passed) {
        ok = false;
        if (!out_) return false;
      }
    }
    return ok;
  }

  bool check_array(const schema_node& node, const json& v) {
    bool ok = true;
    if (node.min_items && v.size() < *node.min_items) {
      ok = report("minItems", "must have at least " + std::to_string(*node.min_items) + " items");
      if (!out_) return false;
    }
    if (node.max_items && v.size() > *node.max_items) {
      ok = report("maxItems", "must have at most " + std::to_string(*node.max_items) + " items");
      if (!out_) return false;
    }
    if (node.unique_items) {
      // Quadratic, but json == compares 1 and 1.0 as equal, which a hash
      // of the text would not; tool arrays are short.
      bool unique = true;
      for (std::size_t i = 0; i < v.size() && unique; ++i)
        for (std::size_t j = i + 1; j < v.size() && unique; ++j)
          if (v[i] == v[j]) {
            unique = false;
            ok = report("uniqueItems", "items " + std::to_string(i) + " and " + std::to_string(j) +
                                           " are equal");
            if (!out_) return false;
          }
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::optional<node_index> schema;
      if (i < node.prefix_items.size())
        schema = node.prefix_items[i];
      else if (!node.prefix_items.empty())
        schema = node.additional_items;
      else
        schema = node.items;
      if (schema && !check_child(*schema, v[i], i)) {
        ok = false;
        if (!out_) return false;
      }
    }
    return ok;
  }

  bool check_string(const schema_node& node, const json& v) {
    const auto& s = v.get_ref<const std::string&>();
    bool ok = true;
    if (node.min_length || node.max_length) {
      std::size_t length = count_code_points(s);
      if (node.min_length && length < *node.min_length) {
        ok = report("minLength", "must be at least " + std::to_string(*node.min_length) + " characters long");
        if (!out_) return false;
      }
      if (node.max_length && length > *node.max_length) {
        ok = report("maxLength", "must be at most " + std::to_string(*node.max_length) + " characters long");
        if (!out_) return false;
      }
    }
    if (node.pattern) {
      match m = search(*node.pattern, s);
      if (m == match::no)
        ok = report("pattern", "must match the pattern " + quoted(node.pattern->source));
      else if (m == match::unknown)
        ok = report("pattern", "is too long (over " + std::to_string(max_pattern_input_bytes) +
                                   " bytes) to check against the pattern " + quoted(node.pattern->source));
    }
    return ok;
  }

  bool check_number(const schema_node& node, const json& v) {
    bool ok = true;
    // json's < and <= compare integers exactly and mixed kinds as doubles.
    auto bound = [&](const std::optional<json>& limit, bool passed, const char* keyword, const char* relation) {
      if (!limit || passed) return true;
      ok = report(keyword, std::string("must be ") + relation + " " + limit->dump());
      return out_ != nullptr;
    };
    return bound(node.minimum, node.minimum && !(v < *node.minimum), "minimum", ">=") &&
           bound(node.maximum, node.maximum && !(*node.maximum < v), "maximum", "<=") &&
           bound(node.exclusive_minimum, node.exclusive_minimum && *node.exclusive_minimum < v,
                 "exclusiveMinimum", ">") &&
           bound(node.exclusive_maximum, node.exclusive_maximum && v < *node.exclusive_maximum,
                 "exclusiveMaximum", "<") &&
           ok;
  }

  bool check_combinators(const schema_node& node, const json& v) {
    bool ok = true;
    for (node_index n : node.all_of)
      if (!check(n, v)) {
        ok = false;
        if (!out_) return false;
      }
    if (!node.any_of.empty()) {
      bool any = std::any_of(node.any_of.begin(), node.any_of.end(), [&](node_index n) { return passes(n, v); });
      if (!any) {
        ok = report("anyOf", "does not match any of the " + std::to_string(node.any_of.size()) + " alternatives");
        if (!out_) return false;
      }
    }
    if (!node.one_of.empty()) {
      std::vector<std::size_t> matches;
      for (std::size_t i = 0; i < node.one_of.size() && matches.size() < 2; ++i)
        if (passes(node.one_of[i], v)) matches.push_back(i);
      if (matches.empty())
        ok = report("oneOf", "does not match any of the " + std::to_string(node.one_of.size()) + " alternatives");
      else if (matches.size() > 1)
        ok = report("oneOf", "matches more than one alternative (" + std::to_string(matches[0]) + " and " +
                                 std::to_string(matches[1]) + "); must match exactly one");
      if (!ok && !out_) return false;
    }
    if (node.not_schema && passes(*node.not_schema, v)) ok = report("not", "must not match the schema in \"not\"");
    return ok;
  }
};

}  // namespace

std::string validation_error::to_string() const {
  return (instance_path.empty() ? std::string("(root)") : instance_path) + ": " + message + " [" + keyword + "]";
}

std::vector<validation_error> compiled_schema::validate(const nlohmann::json& instance) const {
  std::vector<validation_error> errors;
  validator(*graph_, &errors).check(0, instance);
  return errors;
}

bool compiled_schema::is_valid(const nlohmann::json& instance) const {
  return validator(*graph_, nullptr).check(0, instance);
}

}  // namespace sb::tools
