#pragma once
// Gemini's function `parameters` take an OpenAPI subset of JSON Schema and
// reject the rest with a 400 ("Unknown name \"additionalProperties\""), so a
// client's JSON Schema is cut down to what Gemini knows before it is sent.

#include <nlohmann/json.hpp>

namespace sb::providers {

/// The schema with only Gemini's Schema fields kept, recursively: local
/// `$ref`s into `$defs`/`definitions` inlined, `type: [T, "null"]` turned into
/// `type: T, nullable: true`, `const` into a one-value `enum`, `oneOf` into `anyOf`.
nlohmann::json gemini_schema(const nlohmann::json& json_schema);

}  // namespace sb::providers
