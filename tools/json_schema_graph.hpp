#pragma once
// The compiled form of a schema, shared by the compiler (json_schema_compiler.cpp)
// and the validator (json_schema.cpp); not part of the public API.
//
// Every subschema is one node in a flat vector, and subschemas refer to each
// other by index: "$ref" may point back up the document (recursive schemas),
// which indices express without ownership cycles.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sb::tools::detail {

using node_index = std::size_t;

/// Bit per JSON Schema type name.
enum type_bit : std::uint8_t {
  type_null = 1,
  type_boolean = 2,
  type_integer = 4,
  type_number = 8,  // "number" also admits integers; the validator handles that
  type_string = 16,
  type_array = 32,
  type_object = 64,
};

struct compiled_pattern {
  std::string source;  // for messages
  std::regex regex;
};

struct schema_node {
  // A boolean schema: true accepts everything, false nothing.
  std::optional<bool> always;
  // "$ref": when set, the node is only this reference (draft-07).
  std::optional<node_index> ref;
  std::string ref_text;

  std::uint8_t types = 0;  // 0 = "type" absent
  std::string type_text;   // "string or null", for messages

  std::optional<nlohmann::json> enum_values;  // an array
  std::optional<nlohmann::json> const_value;

  // objects
  std::vector<std::pair<std::string, node_index>> properties;  // sorted by name
  std::vector<std::pair<compiled_pattern, node_index>> pattern_properties;
  std::optional<node_index> additional_properties;
  std::vector<std::string> required;
  std::optional<std::size_t> min_properties, max_properties;

  // arrays
  std::optional<node_index> items;        // one schema for every item
  std::vector<node_index> prefix_items;   // "items": [...]
  std::optional<node_index> additional_items;  // after the prefix
  std::optional<std::size_t> min_items, max_items;
  bool unique_items = false;

  // numbers: kept as JSON so integer bounds compare exactly
  std::optional<nlohmann::json> minimum, maximum, exclusive_minimum, exclusive_maximum;

  // strings
  std::optional<std::size_t> min_length, max_length;
  std::optional<compiled_pattern> pattern;

  // combinators
  std::vector<node_index> all_of, any_of, one_of;
  std::optional<node_index> not_schema;
};

struct schema_graph {
  std::vector<schema_node> nodes;  // nodes[0] is the root
};

}  // namespace sb::tools::detail
