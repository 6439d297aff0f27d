#pragma once
// <dir>/<name>/rollout.json: which version most users get, and which version
// a percentage of users tries first (SPEC section 8):
//   {"stable": 2, "canary": {"version": 3, "percent": 10}}

#include <optional>
#include <set>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "prompts/prompt_error.hpp"

namespace sb::prompts {

struct canary_split {
  int version = 0;
  int percent = 0;  // 0..100: users whose canary_bucket is below it get `version`
  bool operator==(const canary_split& o) const { return version == o.version && percent == o.percent; }
};

struct rollout {
  int stable = 0;
  std::optional<canary_split> canary;
  bool operator==(const rollout& o) const { return stable == o.stable && canary == o.canary; }
};

/// Checks the shape: {"stable": N} plus an optional {"canary": {"version": N,
/// "percent": 0..100}}, versions positive integers, no other keys (a typo such
/// as "precent" must not pass silently). Errors are invalid_rollout; this is
/// also what PUT /admin/prompts/{name}/rollout parses its body with.
[[nodiscard]] result<rollout> parse_rollout(const nlohmann::json& document);

/// The JSON form, as parse_rollout reads it.
[[nodiscard]] nlohmann::json rollout_to_json(const rollout& r);

/// Checks that the versions the rollout names are among `servable` (the
/// prompt's locked versions). Errors are invalid_rollout naming the version.
[[nodiscard]] maybe_error check_rollout_versions(const rollout& r, const std::set<int>& servable,
                                                 const std::string& prompt_name);

/// Reads <dir>/<name>/rollout.json; nullopt when the file does not exist.
/// Errors are invalid_files naming the file.
[[nodiscard]] result<std::optional<rollout>> read_rollout_file(const std::string& dir,
                                                               const std::string& name);

/// Replaces <dir>/<name>/rollout.json atomically (temp file, fsync, rename),
/// for PUT /admin/prompts/{name}/rollout. Refuses an invalid name or a prompt
/// folder that does not exist; it does not check versions: validate against
/// the live library first (prompt_library::with_rollout).
[[nodiscard]] maybe_error write_rollout(const std::string& dir, const std::string& name,
                                        const rollout& r);

}  // namespace sb::prompts
