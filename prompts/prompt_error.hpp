#pragma once
// Errors as values for the prompt library: a kind the caller maps to an HTTP
// status (or an exit code), and a message for a person that names the file,
// version or variable at fault.

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "core/api_error.hpp"

namespace sb::prompts {

enum class prompt_error_kind {
  unknown_prompt,    // no prompt of that name: 404
  unknown_version,   // no servable version of that number: 404
  invalid_version,   // a version that is not a positive integer: 400
  missing_variable,  // the template needs a variable the request lacks: 400
  unknown_variable,  // the request gives a variable the template lacks: 400
  invalid_variable,  // variables not an object, or a value of the wrong type: 400
  invalid_rollout,   // a rollout that names absent versions or a bad percent: 400
  invalid_files,     // a prompt file, prompts.lock or rollout.json is wrong: stops the start
  io_failed,         // the file system refused a read or a write
};

struct prompt_error {
  prompt_error_kind kind = prompt_error_kind::invalid_files;
  std::string message;  // e.g. "prompts/greeting/v2.txt changed since it was locked"
  std::string subject;  // what is named: the variable, the version, the prompt or the file
};

/// The client-facing error for the request path and the admin endpoint:
/// unknown prompt/version -> 404, variable/version/rollout problems -> 400
/// with param "prompt.variables.<name>", "prompt.version" or "prompt.id";
/// file problems -> 500 (they should have stopped the start).
[[nodiscard]] sb::api_error to_api_error(const prompt_error& e);

/// Either a value or a prompt_error. Check ok() before value(): value() of an
/// error (or error() of a value) is a programming error, and throws
/// std::bad_variant_access rather than reading garbage.
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  result(prompt_error error) : state_(std::in_place_index<1>, std::move(error)) {}

  [[nodiscard]] bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  [[nodiscard]] const T& value() const& { return std::get<0>(state_); }
  [[nodiscard]] T& value() & { return std::get<0>(state_); }
  [[nodiscard]] T&& value() && { return std::get<0>(std::move(state_)); }
  [[nodiscard]] const prompt_error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, prompt_error> state_;
};

/// For operations with nothing to return: nullopt means success.
using maybe_error = std::optional<prompt_error>;

}  // namespace sb::prompts
