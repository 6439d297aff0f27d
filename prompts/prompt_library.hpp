#pragma once
// The prompts a gateway serves: an immutable snapshot of the prompts
// directory, loaded at start and on SIGHUP and swapped whole (a failed load
// keeps the old snapshot). Read on every request; safe to share across
// threads because nothing in it changes after load.
//
// Only locked versions are served. A version whose file is not in
// prompts.lock is a draft: it is listed and reported (warnings()) but neither
// chosen by the rollout nor by an explicit "version", because SPEC section 8
// says a deployed version is immutable and only the lock makes it so.
// ADR-0012 has the reasoning.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "prompts/prompt_error.hpp"
#include "prompts/prompt_template.hpp"
#include "prompts/rollout.hpp"

namespace sb::prompts {

/// One v<N>.txt file.
struct prompt_version {
  int number = 0;
  std::string path;
  std::string sha256;  // of the file's bytes
  bool locked = false;  // prompts.lock records this digest
  /// Null only for an unlocked draft that does not parse (a warning says why).
  std::shared_ptr<const prompt_template> tmpl;

  [[nodiscard]] bool servable() const { return locked && tmpl != nullptr; }
};

/// One prompt: its versions and its split.
struct prompt {
  std::string name;
  std::map<int, prompt_version> versions;  // ascending
  std::optional<rollout> rollout_file;     // rollout.json, when there is one

  /// rollout.json's split, else the newest locked version as stable with no
  /// canary; nullopt when nothing is locked yet.
  [[nodiscard]] std::optional<rollout> effective_rollout() const;
};

/// The version a request gets, before its variables are filled.
struct chosen_prompt {
  std::string name;
  int version = 0;
  bool canary = false;  // picked by the canary split rather than as stable or by request
  std::shared_ptr<const prompt_template> tmpl;  // tmpl->source() is the raw text

  /// "name@vN", for the x-gateway-prompt header.
  [[nodiscard]] std::string header_value() const;
};

/// A chosen version with its variables filled: `text` becomes the first
/// system message.
struct rendered_prompt {
  std::string name;
  int version = 0;
  bool canary = false;
  std::string text;

  /// "name@vN", for the x-gateway-prompt header.
  [[nodiscard]] std::string header_value() const;
};

/// The request's "version" field: a string of digits ("3", as SPEC writes
/// it) or a positive JSON integer; null means "let the rollout choose".
/// Anything else is invalid_version (a 400).
[[nodiscard]] result<std::optional<int>> parse_requested_version(const nlohmann::json& field);

class prompt_library {
 public:
  /// Loads `dir`. A missing directory is an empty library. A locked version
  /// whose file changed or vanished, a locked version that does not parse,
  /// a malformed prompts.lock, or a rollout.json that is malformed or names a
  /// version that is not locked is an error naming the file: the start stops
  /// (exit 2), a reload keeps the previous snapshot.
  [[nodiscard]] static result<std::shared_ptr<const prompt_library>> load(const std::string& dir);

  /// An empty library, for a gateway with no prompts and for tests.
  [[nodiscard]] static std::shared_ptr<const prompt_library> empty();

  /// The directory it was loaded from (write_rollout's first argument).
  [[nodiscard]] const std::string& dir() const { return dir_; }

  /// What a start or reload should log: drafts not yet locked, stray files.
  [[nodiscard]] const std::vector<std::string>& warnings() const { return warnings_; }

  /// Every prompt, by name.
  [[nodiscard]] const std::map<std::string, prompt>& prompts() const { return prompts_; }

  /// The prompt of that name, or null.
  [[nodiscard]] const prompt* find(std::string_view name) const;

  /// The version for this request: `version` when given (it must be locked),
  /// else the canary when in_canary(name, user_id, percent), else stable.
  /// Errors: unknown_prompt, unknown_version (both a 404).
  [[nodiscard]] result<chosen_prompt> choose(std::string_view name, std::string_view user_id,
                                             std::optional<int> version) const;

  /// choose() then fill the variables: the whole request path in one call.
  /// Errors: those of choose() and of prompt_template::render (a 400).
  [[nodiscard]] result<rendered_prompt> render(std::string_view name, std::string_view user_id,
                                               std::optional<int> version,
                                               const nlohmann::json& variables) const;

  /// A copy of this snapshot with `name`'s split replaced, for
  /// PUT /admin/prompts/{name}/rollout and its cluster notification: check
  /// here, then write_rollout(dir(), name, r), then swap the snapshot in.
  /// Errors: unknown_prompt, invalid_rollout (a version that is not locked).
  [[nodiscard]] result<std::shared_ptr<const prompt_library>> with_rollout(std::string_view name,
                                                                           const rollout& r) const;

 private:
  std::string dir_;
  std::map<std::string, prompt> prompts_;
  std::vector<std::string> warnings_;
};

}  // namespace sb::prompts
