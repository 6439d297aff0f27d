#pragma once
// Billing periods: calendar months in UTC, named "YYYY-MM" (SPEC section 6).
// Plain arithmetic on milliseconds since the epoch, so no time zone, locale or
// timegm() quirk can move a row into the wrong month.

#include <cstdint>
#include <optional>
#include <string>

namespace sb::cluster {

/// [start_ms, end_ms): the period's first millisecond and the next period's.
/// end_ms is also when caps reset.
struct period_bounds {
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
};

/// Milliseconds since the epoch, UTC, now.
std::int64_t now_ms();

/// "2025-03" for any instant of March 2025 UTC.
std::string period_of(std::int64_t ms_since_epoch);
inline std::string current_period() { return period_of(now_ms()); }

/// The bounds of "YYYY-MM"; nullopt when the text is not such a period.
std::optional<period_bounds> parse_period(const std::string& period);

/// "2025-04-01T00:00:00Z" for "2025-03": when the period's caps reset.
std::string period_reset_iso8601(const std::string& period);

}  // namespace sb::cluster
