#pragma once
// Our own JSON Schema validator: Debian packages no C++ one, and tools only
// need a core of the language. Semantics follow draft-07 (the draft the
// official test suite in Debian's json-schema-test-suite package covers, see
// tests/tools/json_schema_suite_test.cpp), plus "$defs" as a home for
// definitions.
//
// Supported keywords:
//   type (a name or an array of names; 1.0 counts as an integer), enum, const,
//   properties, patternProperties, additionalProperties (bool or schema),
//   required, minProperties, maxProperties,
//   items (a schema, or an array of schemas checked as a prefix),
//   additionalItems, minItems, maxItems, uniqueItems,
//   minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers, draft-6+),
//   minLength, maxLength (Unicode code points, not bytes), pattern,
//   allOf, anyOf, oneOf, not, boolean schemas, and "$ref" within the document
//   ("#", "#/definitions/x", "#/$defs/x", with ~0 ~1 and %-escapes).
// As in draft-07, a schema holding "$ref" is that reference: its other
// keywords are ignored. Unknown keywords (format, title, ...) are ignored, as
// the specification says.
//
// pattern: std::regex in ECMAScript mode, searched (not anchored), over the
// UTF-8 bytes: it is not Unicode-aware ("." matches one byte, "\w" is ASCII,
// "\p{..}" does not compile). libstdc++'s matcher recurses per character, so
// a string longer than max_pattern_input_bytes fails "pattern" instead of
// risking the stack. Likewise a value nested deeper than max_instance_depth
// (reachable only through a recursive schema) fails with keyword "depth".

#include <cstddef>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace sb::tools {

/// Strings longer than this fail "pattern" unchecked (see above).
inline constexpr std::size_t max_pattern_input_bytes = 4096;
/// Values nested deeper than this fail "depth" unchecked (see above).
inline constexpr std::size_t max_instance_depth = 256;

/// The schema itself is not valid JSON Schema (as far as we support it).
struct schema_error {
  std::string keyword_path;  // JSON pointer into the schema: "/properties/id/type"
  std::string message;       // "unknown type \"strin\""
  [[nodiscard]] std::string to_string() const;
};

/// One way an instance breaks the schema.
struct validation_error {
  std::string instance_path;  // JSON pointer into the instance: "/items/0/id", "" = root
  std::string keyword;        // the failing keyword: "required", "type", ...
  std::string message;        // "missing required property \"id\""
  [[nodiscard]] std::string to_string() const;
};

namespace detail {
struct schema_graph;
}

/// A schema compiled once (regexes built, references resolved); immutable and
/// cheap to copy, so one instance may validate from many threads at once.
class compiled_schema {
 public:
  /// Compiles `schema` (an object or a boolean). The JSON is not kept.
  static std::variant<compiled_schema, schema_error> compile(const nlohmann::json& schema);

  /// Every error found; empty means valid. Combinators (anyOf, oneOf, not)
  /// report one error of their own rather than their branches' errors.
  [[nodiscard]] std::vector<validation_error> validate(const nlohmann::json& instance) const;
  /// Stops at the first error: for callers that need only the answer.
  [[nodiscard]] bool is_valid(const nlohmann::json& instance) const;

 private:
  explicit compiled_schema(std::shared_ptr<const detail::schema_graph> graph)
      : graph_(std::move(graph)) {}
  std::shared_ptr<const detail::schema_graph> graph_;
};

}  // namespace sb::tools
