#pragma once
// JSON Pointer (RFC 6901) pieces the schema validator needs: building the
// instance and keyword paths it reports, and reading the fragment of a local
// "$ref" ("#/definitions/a~1b", percent-encoded as URI fragments are).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::tools {

/// Appends "/" + token with "~" -> "~0" and "/" -> "~1".
void append_pointer_token(std::string& pointer, std::string_view token);
/// Same for an array index.
void append_pointer_index(std::string& pointer, std::size_t index);

/// "/a~1b/0" -> {"a/b", "0"}; "" -> {} (the whole document). Nothing when the
/// text is not a JSON pointer (no leading "/", or "~" not followed by 0 or 1).
std::optional<std::vector<std::string>> parse_pointer(std::string_view pointer);

/// "%25" -> "%". Nothing on a malformed escape ("%2", "%zz").
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace sb::tools
