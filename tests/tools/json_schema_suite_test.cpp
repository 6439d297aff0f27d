// Runs the official JSON Schema Test Suite (Debian's json-schema-test-suite
// package, draft-07: the newest draft that package ships) for every keyword
// tools/json_schema.hpp supports, and reports the pass count.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/json_schema.hpp"

namespace {

using nlohmann::json;
using sb::tools::compiled_schema;
using sb::tools::schema_error;

const std::filesystem::path suite_dir = "/usr/share/json-schema-test-suite/tests/draft7";

// The draft-07 meta-schema, for the cases that "$ref" it by its URI. Our
// validator resolves only references within a document, so the harness does
// what a validator with a built-in meta-schema does: validates against that
// document itself (whose own references are all local). It comes from
// python3-jsonschema, which json-schema-test-suite depends on.
const std::filesystem::path meta_schema_file = "/usr/lib/python3/dist-packages/jsonschema/schemas/draft7.json";
const std::string meta_schema_uri = "http://json-schema.org/draft-07/schema#";

// One file per supported keyword (plus the optional file on 1.0 being an integer).
const std::vector<std::string> suite_files = {
    "type.json", "enum.json", "const.json",
    "properties.json", "patternProperties.json", "additionalProperties.json", "required.json",
    "minProperties.json", "maxProperties.json",
    "items.json", "additionalItems.json", "minItems.json", "maxItems.json", "uniqueItems.json",
    "minimum.json", "maximum.json", "exclusiveMinimum.json", "exclusiveMaximum.json",
    "minLength.json", "maxLength.json", "pattern.json",
    "allOf.json", "anyOf.json", "oneOf.json", "not.json",
    "ref.json", "definitions.json", "boolean_schema.json",
    "optional/zeroTerminatedFloats.json",
};

// Groups we do not run, by "file: group description", and why.
const std::map<std::string, std::string> skipped_groups = {
    {"ref.json: Recursive references between schemas",
     "needs \"$id\" to change the base URI (\"$ref\": \"node\"); only \"#...\" references are supported"},
};

std::optional<json> read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  json doc = json::parse(in, nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  return doc;
}

struct tally {
  int passed = 0;
  int run = 0;
  int skipped = 0;
  std::vector<std::string> failures;
};

void run_group(const std::string& file, const json& group, const std::optional<json>& meta_schema,
               tally& t) {
  const std::string name = file + ": " + group.at("description").get<std::string>();
  const auto& tests = group.at("tests");
  if (skipped_groups.count(name)) {
    t.skipped += static_cast<int>(tests.size());
    return;
  }
  const json* schema = &group.at("schema");
  if (*schema == json{{"$ref", meta_schema_uri}}) {
    if (!meta_schema) {
      t.skipped += static_cast<int>(tests.size());
      WARN("skipped " << name << ": " << meta_schema_file << " is missing");
      return;
    }
    schema = &*meta_schema;
  }
  auto compiled = compiled_schema::compile(*schema);
  for (const auto& test : tests) {
    ++t.run;
    const std::string case_name = name + " / " + test.at("description").get<std::string>();
    if (auto* error = std::get_if<schema_error>(&compiled)) {
      t.failures.push_back(case_name + ": schema rejected: " + error->to_string());
      continue;
    }
    const auto& validator = std::get<compiled_schema>(compiled);
    const bool expected = test.at("valid").get<bool>();
    const auto errors = validator.validate(test.at("data"));
    const bool fast = validator.is_valid(test.at("data"));
    if (errors.empty() != expected) {
      t.failures.push_back(case_name + ": expected " + (expected ? "valid" : "invalid") +
                           (errors.empty() ? "" : ", first error " + errors.front().to_string()));
    } else if (fast != expected) {
      t.failures.push_back(case_name + ": is_valid() disagrees with validate()");
    } else {
      ++t.passed;
    }
  }
}

}  // namespace

TEST_CASE("json-schema-test-suite draft-07: every case of the supported keywords passes") {
  if (!std::filesystem::is_directory(suite_dir))
    FAIL(suite_dir << " is missing: run deploy/install-deps.sh (package json-schema-test-suite)");
  const auto meta_schema = read_json(meta_schema_file);

  tally t;
  for (const auto& file : suite_files) {
    auto doc = read_json(suite_dir / file);
    if (!doc) {
      t.failures.push_back(file + ": missing or not JSON");
      continue;
    }
    for (const auto& group : *doc) run_group(file, group, meta_schema, t);
  }

  std::cout << "json-schema-test-suite: " << t.passed << "/" << t.run
            << " passed for the supported keywords (draft-07, " << suite_files.size() << " files; "
            << t.skipped << " cases skipped:";
  for (const auto& [group, reason] : skipped_groups) std::cout << " [" << group << ": " << reason << "]";
  std::cout << ")\n";
  for (const auto& failure : t.failures) UNSCOPED_INFO(failure);
  REQUIRE(t.failures.empty());
  REQUIRE(t.passed == t.run);
  REQUIRE(t.run > 300);  // the files were really read
}
