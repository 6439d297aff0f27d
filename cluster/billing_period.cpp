#include "cluster/billing_period.hpp"

#include <chrono>
#include <cstdio>

namespace sb::cluster {
namespace {

constexpr std::int64_t ms_per_day = 86'400'000;

// Howard Hinnant's days_from_civil / civil_from_days: exact for the
// proleptic Gregorian calendar, no library time zone involved.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

}  // namespace

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string period_of(std::int64_t ms) {
  std::int64_t y = 0;
  unsigned m = 0;
  civil_from_days(floor_div(ms, ms_per_day), y, m);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u", static_cast<long long>(y), m);
  return buf;
}

std::optional<period_bounds> parse_period(const std::string& p) {
  if (p.size() != 7 || p[4] != '-') return std::nullopt;
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u})
    if (p[i] < '0' || p[i] > '9') return std::nullopt;
  const std::int64_t y = std::stoll(p.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoi(p.substr(5, 2)));
  if (m < 1 || m > 12 || y < 1970) return std::nullopt;
  const std::int64_t ny = m == 12 ? y + 1 : y;
  const unsigned nm = m == 12 ? 1 : m + 1;
  return period_bounds{days_from_civil(y, m, 1) * ms_per_day, days_from_civil(ny, nm, 1) * ms_per_day};
}

std::string period_reset_iso8601(const std::string& period) {
  auto b = parse_period(period);
  if (!b) return "";
  return period_of(b->end_ms) + "-01T00:00:00Z";
}

}  // namespace sb::cluster
