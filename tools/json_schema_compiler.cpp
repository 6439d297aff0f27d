// Turns a schema document into a schema_graph: checks every supported keyword's
// shape, builds each regex once and resolves every "$ref" to a node index.

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/config_json_reader.hpp"
#include "tools/json_pointer.hpp"
#include "tools/json_schema.hpp"
#include "tools/json_schema_graph.hpp"

namespace sb::tools {
namespace {

using detail::compiled_pattern;
using detail::node_index;
using detail::schema_graph;
using detail::schema_node;
using nlohmann::json;

// Tool schemas are shallow; this only keeps a runaway document off the stack.
constexpr int max_schema_depth = 200;

struct type_name {
  const char* name;
  std::uint8_t bit;
};
constexpr type_name type_names[] = {
    {"null", detail::type_null},       {"boolean", detail::type_boolean},
    {"integer", detail::type_integer}, {"number", detail::type_number},
    {"string", detail::type_string},   {"array", detail::type_array},
    {"object", detail::type_object},
};

std::uint8_t type_bit_of(const std::string& name) {
  for (const auto& t : type_names)
    if (name == t.name) return t.bit;
  return 0;
}

/// Appends a token to the running keyword path and takes it off again.
class path_segment {
 public:
  path_segment(std::string& path, std::string_view token) : path_(path), size_(path.size()) {
    append_pointer_token(path_, token);
  }
  path_segment(std::string& path, std::size_t index) : path_(path), size_(path.size()) {
    append_pointer_index(path_, index);
  }
  ~path_segment() { path_.resize(size_); }
  path_segment(const path_segment&) = delete;
  path_segment& operator=(const path_segment&) = delete;

 private:
  std::string& path_;
  std::size_t size_;
};

/// An array index token as RFC 6901 writes it: digits, no leading zero.
std::optional<std::size_t> array_index(const std::string& token) {
  if (token.empty() || token.size() > 18) return std::nullopt;
  if (token.size() > 1 && token[0] == '0') return std::nullopt;
  std::size_t n = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  return n;
}

class compiler {
 public:
  explicit compiler(const json& root) : root_(root) {}

  std::variant<schema_graph, schema_error> run() {
    std::string path;
    node_index root = 0;
    if (!compile_at(root_, path, 0, root)) return std::move(*error_);
    if (!check_cycles()) return std::move(*error_);
    schema_graph graph;
    graph.nodes = std::move(nodes_);
    return graph;
  }

 private:
  const json& root_;
  std::vector<schema_node> nodes_;
  std::vector<std::string> node_paths_;  // keyword path of each node, for cycle errors
  std::unordered_map<std::string, node_index> by_path_;
  std::optional<schema_error> error_;

  bool fail(const std::string& path, std::string message) {
    error_ = schema_error{path, std::move(message)};
    return false;
  }

  // Compiles the subschema found at `path` once; a second visit (through a
  // "$ref" or a recursive reference) answers the same node.
  bool compile_at(const json& schema, std::string& path, int depth, node_index& out) {
    if (auto it = by_path_.find(path); it != by_path_.end()) {
      out = it->second;
      return true;
    }
    if (depth > max_schema_depth)
      return fail(path, "schema nested deeper than " + std::to_string(max_schema_depth) + " levels");
    out = nodes_.size();
    nodes_.emplace_back();
    node_paths_.push_back(path);
    by_path_.emplace(path, out);
    // Built aside and moved in: compiling children grows nodes_.
    schema_node node;
    if (!compile_node(schema, path, depth, node)) return false;
    nodes_[out] = std::move(node);
    return true;
  }

  bool compile_child(const json& parent, const char* keyword, std::string& path, int depth,
                     node_index& out) {
    path_segment seg(path, keyword);
    return compile_at(parent.at(keyword), path, depth + 1, out);
  }

  bool compile_node(const json& schema, std::string& path, int depth, schema_node& node) {
    if (schema.is_boolean()) {
      node.always = schema.get<bool>();
      return true;
    }
    if (!schema.is_object())
      return fail(path, "a schema must be an object or a boolean, got " + describe_json(schema));
    // Definitions are compiled even when nothing refers to them, so that a
    // broken one is reported at start rather than never.
    for (const char* home : {"definitions", "$defs"})
      if (!compile_definitions(schema, home, path, depth)) return false;
    if (schema.contains("$ref")) return compile_ref(schema, path, depth, node);

    return compile_type(schema, path, node) && compile_values(schema, path, node) &&
           compile_object_keywords(schema, path, depth, node) &&
           compile_array_keywords(schema, path, depth, node) &&
           compile_number_keywords(schema, path, node) &&
           compile_string_keywords(schema, path, node) &&
           compile_combinators(schema, path, depth, node);
  }

  bool compile_definitions(const json& schema, const char* home, std::string& path, int depth) {
    auto it = schema.find(home);
    if (it == schema.end()) return true;
    path_segment seg(path, home);
    if (!it->is_object()) return fail(path, "expected an object of schemas, got " + describe_json(*it));
    for (auto member = it->begin(); member != it->end(); ++member) {
      path_segment name(path, member.key());
      node_index ignored = 0;
      if (!compile_at(member.value(), path, depth + 2, ignored)) return false;
    }
    return true;
  }

  bool compile_ref(const json& schema, std::string& path, int depth, schema_node& node) {
    path_segment seg(path, "$ref");
    const json& ref = schema.at("$ref");
    if (!ref.is_string()) return fail(path, "expected a string, got " + describe_json(ref));
    const auto& text = ref.get_ref<const std::string&>();
    node.ref_text = text;
    if (text.empty() || text[0] != '#')
      return fail(path, "\"" + text + "\": only references within the document (\"#...\") are supported");
    auto decoded = percent_decode(std::string_view(text).substr(1));
    if (!decoded) return fail(path, "\"" + text + "\": malformed %-escape");
    auto tokens = parse_pointer(*decoded);
    if (!tokens)
      return fail(path, "\"" + text + "\": the fragment is not a JSON pointer (anchors are not supported)");

    const json* target = &root_;
    std::string target_path;
    for (const auto& token : *tokens) {
      if (target->is_object() && target->contains(token)) {
        target = &target->at(token);
      } else if (auto i = array_index(token); target->is_array() && i && *i < target->size()) {
        target = &target->at(*i);
      } else {
        return fail(path, "\"" + text + "\" does not resolve within the document");
      }
      append_pointer_token(target_path, token);
    }
    node_index index = 0;
    if (!compile_at(*target, target_path, depth + 1, index)) return false;
    node.ref = index;
    return true;
  }

  bool compile_type(const json& schema, std::string& path, schema_node& node) {
    auto it = schema.find("type");
    if (it == schema.end()) return true;
    path_segment seg(path, "type");
    auto add = [&](const json& name) {
      if (!name.is_string()) return fail(path, "expected a type name, got " + describe_json(name));
      std::uint8_t bit = type_bit_of(name.get_ref<const std::string&>());
      if (bit == 0)
        return fail(path, "unknown type " + name.dump() +
                              "; expected null, boolean, integer, number, string, array or object");
      if (node.types & bit) return fail(path, "type " + name.dump() + " listed twice");
      node.types |= bit;
      node.type_text += (node.type_text.empty() ? "" : " or ") + name.get<std::string>();
      return true;
    };
    if (it->is_array()) {
      if (it->empty()) return fail(path, "expected at least one type name");
      for (const auto& name : *it)
        if (!add(name)) return false;
      return true;
    }
    return add(*it);
  }

  bool compile_values(const json& schema, std::string& path, schema_node& node) {
    if (auto it = schema.find("const"); it != schema.end()) node.const_value = *it;
    auto it = schema.find("enum");
    if (it == schema.end()) return true;
    path_segment seg(path, "enum");
    if (!it->is_array()) return fail(path, "expected an array, got " + describe_json(*it));
    node.enum_values = *it;
    return true;
  }

  bool read_count(const json& schema, const char* keyword, std::string& path,
                  std::optional<std::size_t>& out) {
    auto it = schema.find(keyword);
    if (it == schema.end()) return true;
    path_segment seg(path, keyword);
    if (it->is_number_unsigned() || (it->is_number_integer() && it->get<std::int64_t>() >= 0)) {
      out = it->get<std::size_t>();
      return true;
    }
    // 1.0 is an integer too.
    if (it->is_number_float()) {
      double d = it->get<double>();
      if (std::isfinite(d) && d >= 0 && std::floor(d) == d && d < 9e18) {
        out = static_cast<std::size_t>(d);
        return true;
      }
    }
    return fail(path, "expected a non-negative integer, got " + describe_json(*it));
  }

  bool read_bound(const json& schema, const char* keyword, std::string& path,
                  std::optional<json>& out) {
    auto it = schema.find(keyword);
    if (it == schema.end()) return true;
    path_segment seg(path, keyword);
    if (it->is_boolean())
      return fail(path, "the draft-4 boolean form is not supported; give the bound itself as a number");
    if (!it->is_number() || !std::isfinite(it->get<double>()))
      return fail(path, "expected a number, got " + describe_json(*it));
    out = *it;
    return true;
  }

  bool compile_regex(const json& source, std::string& path, compiled_pattern& out) {
    if (!source.is_string()) return fail(path, "expected a regular expression string, got " + describe_json(source));
    out.source = source.get<std::string>();
    try {
      out.regex = std::regex(out.source, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return fail(path, "invalid regular expression " + source.dump() + ": " + e.what());
    }
    return true;
  }

  bool compile_object_keywords(const json& schema, std::string& path, int depth, schema_node& node) {
    if (auto it = schema.find("properties"); it != schema.end()) {
      path_segment seg(path, "properties");
      if (!it->is_object()) return fail(path, "expected an object of schemas, got " + describe_json(*it));
      for (auto member = it->begin(); member != it->end(); ++member) {
        path_segment name(path, member.key());
        node_index index = 0;
        if (!compile_at(member.value(), path, depth + 2, index)) return false;
        node.properties.emplace_back(member.key(), index);
      }
      // nlohmann keeps objects sorted already; sorting again states the contract.
      std::sort(node.properties.begin(), node.properties.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    if (auto it = schema.find("patternProperties"); it != schema.end()) {
      path_segment seg(path, "patternProperties");
      if (!it->is_object()) return fail(path, "expected an object of schemas, got " + describe_json(*it));
      for (auto member = it->begin(); member != it->end(); ++member) {
        path_segment name(path, member.key());
        compiled_pattern pattern;
        if (!compile_regex(json(member.key()), path, pattern)) return false;
        node_index index = 0;
        if (!compile_at(member.value(), path, depth + 2, index)) return false;
        node.pattern_properties.emplace_back(std::move(pattern), index);
      }
    }
    if (schema.contains("additionalProperties")) {
      node_index index = 0;
      if (!compile_child(schema, "additionalProperties", path, depth, index)) return false;
      node.additional_properties = index;
    }
    if (auto it = schema.find("required"); it != schema.end()) {
      path_segment seg(path, "required");
      if (!it->is_array()) return fail(path, "expected an array of property names, got " + describe_json(*it));
      for (const auto& name : *it) {
        if (!name.is_string()) return fail(path, "expected property names, got " + describe_json(name));
        const auto& s = name.get_ref<const std::string&>();
        if (std::find(node.required.begin(), node.required.end(), s) != node.required.end())
          return fail(path, "property " + name.dump() + " listed twice");
        node.required.push_back(s);
      }
    }
    return read_count(schema, "minProperties", path, node.min_properties) &&
           read_count(schema, "maxProperties", path, node.max_properties);
  }

  bool compile_array_keywords(const json& schema, std::string& path, int depth, schema_node& node) {
    if (auto it = schema.find("items"); it != schema.end()) {
      if (it->is_array()) {
        path_segment seg(path, "items");
        for (std::size_t i = 0; i < it->size(); ++i) {
          path_segment item(path, i);
          node_index index = 0;
          if (!compile_at(it->at(i), path, depth + 2, index)) return false;
          node.prefix_items.push_back(index);
        }
      } else {
        node_index index = 0;
        if (!compile_child(schema, "items", path, depth, index)) return false;
        node.items = index;
      }
    }
    if (schema.contains("additionalItems")) {
      node_index index = 0;
      if (!compile_child(schema, "additionalItems", path, depth, index)) return false;
      // Only meaningful after an array-form "items" (draft-07).
      if (schema.contains("items") && schema.at("items").is_array()) node.additional_items = index;
    }
    if (auto it = schema.find("uniqueItems"); it != schema.end()) {
      path_segment seg(path, "uniqueItems");
      if (!it->is_boolean()) return fail(path, "expected true or false, got " + describe_json(*it));
      node.unique_items = it->get<bool>();
    }
    return read_count(schema, "minItems", path, node.min_items) &&
           read_count(schema, "maxItems", path, node.max_items);
  }

  bool compile_number_keywords(const json& schema, std::string& path, schema_node& node) {
    return read_bound(schema, "minimum", path, node.minimum) &&
           read_bound(schema, "maximum", path, node.maximum) &&
           read_bound(schema, "exclusiveMinimum", path, node.exclusive_minimum) &&
           read_bound(schema, "exclusiveMaximum", path, node.exclusive_maximum);
  }

  bool compile_string_keywords(const json& schema, std::string& path, schema_node& node) {
    if (!read_count(schema, "minLength", path, node.min_length) ||
        !read_count(schema, "maxLength", path, node.max_length))
      return false;
    auto it = schema.find("pattern");
    if (it == schema.end()) return true;
    path_segment seg(path, "pattern");
    compiled_pattern pattern;
    if (!compile_regex(*it, path, pattern)) return false;
    node.pattern = std::move(pattern);
    return true;
  }

  bool compile_schema_array(const json& schema, const char* keyword, std::string& path, int depth,
                            std::vector<node_index>& out) {
    auto it = schema.find(keyword);
    if (it == schema.end()) return true;
    path_segment seg(path, keyword);
    if (!it->is_array() || it->empty())
      return fail(path, "expected a non-empty array of schemas, got " + describe_json(*it));
    for (std::size_t i = 0; i < it->size(); ++i) {
      path_segment item(path, i);
      node_index index = 0;
      if (!compile_at(it->at(i), path, depth + 2, index)) return false;
      out.push_back(index);
    }
    return true;
  }

  bool compile_combinators(const json& schema, std::string& path, int depth, schema_node& node) {
    if (!compile_schema_array(schema, "allOf", path, depth, node.all_of) ||
        !compile_schema_array(schema, "anyOf", path, depth, node.any_of) ||
        !compile_schema_array(schema, "oneOf", path, depth, node.one_of))
      return false;
    if (!schema.contains("not")) return true;
    node_index index = 0;
    if (!compile_child(schema, "not", path, depth, index)) return false;
    node.not_schema = index;
    return true;
  }

  // A loop of references that never steps into the instance ({"$ref": "#"},
  // or allOf back to an ancestor) would recurse forever on every value: it is
  // a schema error, found here once rather than as a crash per request.
  bool check_cycles() {
    enum class mark : std::uint8_t { unvisited, active, done };
    std::vector<mark> marks(nodes_.size(), mark::unvisited);
    auto same_value_edges = [this](node_index n) {
      const auto& node = nodes_[n];
      std::vector<node_index> edges;
      if (node.ref) edges.push_back(*node.ref);
      edges.insert(edges.end(), node.all_of.begin(), node.all_of.end());
      edges.insert(edges.end(), node.any_of.begin(), node.any_of.end());
      edges.insert(edges.end(), node.one_of.begin(), node.one_of.end());
      if (node.not_schema) edges.push_back(*node.not_schema);
      return edges;
    };
    // Iterative depth-first search: a long chain must not overflow the stack.
    for (node_index start = 0; start < nodes_.size(); ++start) {
      if (marks[start] != mark::unvisited) continue;
      std::vector<std::pair<node_index, std::vector<node_index>>> stack;
      stack.emplace_back(start, same_value_edges(start));
      marks[start] = mark::active;
      while (!stack.empty()) {
        auto& [n, edges] = stack.back();
        if (edges.empty()) {
          marks[n] = mark::done;
          stack.pop_back();
          continue;
        }
        node_index next = edges.back();
        edges.pop_back();
        if (marks[next] == mark::active)
          return fail(node_paths_[n], "reference cycle: it reaches " +
                                          (node_paths_[next].empty() ? "#" : "#" + node_paths_[next]) +
                                          " again without descending into the value");
        if (marks[next] == mark::unvisited) {
          marks[next] = mark::active;
          stack.emplace_back(next, same_value_edges(next));
        }
      }
    }
    return true;
  }
};

}  // namespace

std::string schema_error::to_string() const { return "#" + keyword_path + ": " + message; }

std::variant<compiled_schema, schema_error> compiled_schema::compile(const nlohmann::json& schema) {
  compiler c(schema);
  auto result = c.run();
  if (auto* error = std::get_if<schema_error>(&result)) return std::move(*error);
  return compiled_schema(
      std::make_shared<const detail::schema_graph>(std::move(std::get<schema_graph>(result))));
}

}  // namespace sb::tools
