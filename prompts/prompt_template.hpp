#pragma once
// A prompt file parsed once, at load, into literal text and {{variable}}
// slots, so a request only fills the slots and a malformed file is caught
// before it is served.
//
// Syntax:
//   {{name}} or {{ name }}  a variable; name = [A-Za-z_][A-Za-z0-9_]*, spaces
//                           or tabs may surround it inside the braces
//   {{{{                    a literal "{{" (so "{{{{name}}" renders "{{name}}")
//   }}                      outside a placeholder is plain text
// Any other "{{" is an error with its line and column: a typo such as
// "{{ user name }}" must not reach a model as literal braces. The text must
// be UTF-8 (it is sent inside JSON); the bytes are otherwise kept as they
// are, final newline included.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "prompts/prompt_error.hpp"

namespace sb::prompts {

class prompt_template {
 public:
  /// Parses `text`; errors are kind invalid_files with "line L, column C: ...",
  /// for the caller to prefix with the file's path.
  [[nodiscard]] static result<prompt_template> parse(std::string_view text);

  /// The file's text as written, placeholders unfilled.
  [[nodiscard]] const std::string& source() const { return source_; }

  /// The distinct variable names, in order of first use.
  [[nodiscard]] const std::vector<std::string>& variables() const { return variables_; }

  /// Fills the slots from a JSON object (null counts as {}): strings as they
  /// are, numbers and booleans as JSON writes them. A variable the template
  /// uses but `values` lacks, one `values` gives but the template does not
  /// use, or a null/array/object value is an error naming the variable.
  [[nodiscard]] result<std::string> render(const nlohmann::json& values) const;

 private:
  struct segment {
    bool is_variable = false;
    std::string text;  // the literal text, or the variable's name
  };
  std::string source_;
  std::vector<segment> segments_;
  std::vector<std::string> variables_;
};

}  // namespace sb::prompts
