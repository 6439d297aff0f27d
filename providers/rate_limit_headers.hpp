#pragma once
// What a provider's response headers say about a key's limits: when it may be
// used again and what is left. Pure: "now" is a parameter (HTTP-dates and
// RFC 3339 reset times are absolute, the gateway wants relative waits).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb::providers {

struct rate_limit_info {
  /// How long from `now` until the key is ready again. The latest of all the
  /// headers that say (SPEC section 5: "the latest time wins"); 0 for a time
  /// already past. Meant for a 429: every reset counts, even that of a budget
  /// not exhausted, because the provider does not say which one it hit.
  std::optional<std::chrono::milliseconds> retry_after;
  /// The smallest remaining count any header reports (requests; tokens, where
  /// Anthropic's input/output budgets count as tokens too).
  std::optional<std::int64_t> remaining_requests;
  std::optional<std::int64_t> remaining_tokens;
};

/// Reads: retry-after (seconds or HTTP-date), retry-after-ms,
/// x-ratelimit-remaining-{requests,tokens}, x-ratelimit-reset-{requests,tokens}
/// (OpenAI durations: "1s", "6m0s", "20ms", "1h2m3.5s"), OpenRouter's
/// x-ratelimit-remaining / x-ratelimit-reset (epoch milliseconds),
/// anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{remaining,reset}
/// (resets are RFC 3339). Names are matched case-insensitively; values that do
/// not parse are ignored.
rate_limit_info read_rate_limit_headers(const std::vector<std::pair<std::string, std::string>>& headers,
                                        std::chrono::system_clock::time_point now);

/// Whether read_rate_limit_headers could read anything from a header of this
/// (lowercase) name: the session hands the key actor only these, not every
/// header of every answer.
bool is_rate_limit_header(std::string_view name);

/// Go-style duration as OpenAI sends it: "1h2m3.5s", "20ms", "0s".
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
/// "2024-05-01T12:00:30Z", with optional fraction and numeric offset.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);
/// IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

}  // namespace sb::providers
