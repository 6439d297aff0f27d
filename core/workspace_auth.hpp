#pragma once
// Client authentication (SPEC section 4): a bearer token names the workspace
// whose api_key_sha256 holds sha256(token); the admin token opens /admin.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/api_error.hpp"
#include "core/config.hpp"

namespace sb {

/// Lowercase hex sha256 of `data`.
std::string sha256_hex(std::string_view data);

/// Equality whose time does not depend on where the inputs differ (their
/// lengths may leak; compare digests to hide those too).
bool constant_time_equals(std::string_view a, std::string_view b);

/// The token of "Bearer <token>" (scheme case-insensitive, spaces trimmed);
/// nullopt for a missing header, another scheme or an empty token.
std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization_header);

/// The open-mode workspace: id "default", no own cap (the env default applies).
const workspace_config& open_workspace();

/// Open mode: open_workspace() whatever the header says. Otherwise the
/// workspace whose hashes hold sha256 of the bearer token, else 401.
/// The returned pointer lives as long as `cfg` (or forever, in open mode).
std::variant<const workspace_config*, api_error> authenticate(
    const gateway_config& cfg, std::optional<std::string_view> authorization_header);

/// True when `token` is the admin token; always false when none is configured.
bool is_admin(const gateway_config& cfg, std::string_view token);

}  // namespace sb
