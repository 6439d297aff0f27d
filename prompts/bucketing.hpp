#pragma once
// Which users see the canary (SPEC section 8): a pure function of the prompt
// name and the user id, so a user sticks to one version on every request and
// every node, with no state to share. ADR-0012 says why.

#include <cstdint>
#include <string_view>

namespace sb::prompts {

/// FNV-1a, 64 bits, over the bytes of `data`.
[[nodiscard]] std::uint64_t fnv1a64(std::string_view data);

/// The user's bucket for this prompt, 0..99: fnv1a64(name + ":" + user_id) % 100.
[[nodiscard]] int canary_bucket(std::string_view prompt_name, std::string_view user_id);

/// True when the user's bucket is below `percent` (0 = nobody, 100 = everybody).
[[nodiscard]] bool in_canary(std::string_view prompt_name, std::string_view user_id, int percent);

}  // namespace sb::prompts
