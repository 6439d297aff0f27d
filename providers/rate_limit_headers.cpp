#include "providers/rate_limit_headers.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace sb::providers {

namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A non-negative decimal number filling the whole text.
std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s.front())) || s.front() == '.')) return std::nullopt;
  std::string copy(s);
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<std::int64_t> parse_count(std::string_view s) {
  auto v = parse_number(s);
  if (!v) return std::nullopt;
  return static_cast<std::int64_t>(*v);
}

// Fixed-width digits at s[pos..pos+n).
std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm),
// so no timegm/locale is needed.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<system_clock::time_point> make_time(int y, int mo, int d, int h, int mi, int s,
                                                  milliseconds fraction, std::int64_t offset_s) {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::int64_t secs = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                      h * 3600 + mi * 60 + s - offset_s;
  return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(
      std::chrono::seconds(secs) + fraction));
}

milliseconds until(system_clock::time_point t, system_clock::time_point now) {
  auto d = std::chrono::ceil<milliseconds>(t - now);
  return std::max(d, milliseconds(0));
}

milliseconds from_seconds(double s) { return milliseconds(static_cast<std::int64_t>(std::ceil(s * 1000.0))); }

// OpenRouter's x-ratelimit-reset is epoch milliseconds; some OpenAI-compatible
// hosts send epoch seconds or a relative number of seconds. Told apart by size.
std::optional<milliseconds> parse_bare_reset(std::string_view value, system_clock::time_point now) {
  auto v = parse_number(value);
  if (!v) return parse_duration(value);
  auto epoch = [&](double ms) {
    return until(system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(
                     milliseconds(static_cast<std::int64_t>(ms)))),
                 now);
  };
  if (*v > 1e12) return epoch(*v);
  if (*v > 1e9) return epoch(*v * 1000.0);
  return from_seconds(*v);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void keep_min(std::optional<std::int64_t>& slot, std::optional<std::int64_t> v) {
  if (v && (!slot || *v < *slot)) slot = v;
}

}  // namespace

std::optional<milliseconds> parse_duration(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  while (!text.empty()) {
    std::size_t n = 0;
    while (n < text.size() && (std::isdigit(static_cast<unsigned char>(text[n])) || text[n] == '.')) ++n;
    auto number = parse_number(text.substr(0, n));
    if (!number) return std::nullopt;
    text.remove_prefix(n);
    std::size_t u = 0;
    while (u < text.size() && !std::isdigit(static_cast<unsigned char>(text[u])) && text[u] != '.') ++u;
    std::string_view unit = text.substr(0, u);
    text.remove_prefix(u);
    double scale;
    if (unit == "h") scale = 3600e3;
    else if (unit == "m") scale = 60e3;
    else if (unit == "s") scale = 1e3;
    else if (unit == "ms") scale = 1;
    else if (unit == "us" || unit == "\xC2\xB5s") scale = 1e-3;  // "µs"
    else if (unit == "ns") scale = 1e-6;
    else return std::nullopt;
    total_ms += *number * scale;
  }
  return milliseconds(static_cast<std::int64_t>(std::ceil(total_ms)));
}

std::optional<system_clock::time_point> parse_rfc3339(std::string_view s) {
  s = trim(s);
  auto y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  auto h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2);
  if (!y || !mo || !d || !h || !mi || !sec || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  char t = s[10];
  if (t != 'T' && t != 't' && t != ' ') return std::nullopt;
  std::size_t pos = 19;
  milliseconds fraction(0);
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    double scale = 100;
    double ms = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    fraction = milliseconds(static_cast<std::int64_t>(ms));
  }
  std::int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    auto oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
    if (!oh || !om || s[pos + 3] != ':') return std::nullopt;
    offset = (s[pos] == '-' ? -1 : 1) * (*oh * 3600 + *om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  return make_time(*y, *mo, *d, *h, *mi, *sec, fraction, offset);
}

std::optional<system_clock::time_point> parse_http_date(std::string_view s) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": the fields sit at fixed places after the comma.
  s = trim(s);
  auto comma = s.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  s.remove_prefix(comma + 2);
  if (s.size() != 24 || s.substr(20) != " GMT") return std::nullopt;
  static constexpr std::string_view months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  auto m = months.find(s.substr(3, 3));
  auto d = digits(s, 0, 2), y = digits(s, 7, 4), h = digits(s, 12, 2), mi = digits(s, 15, 2),
       sec = digits(s, 18, 2);
  if (m == std::string_view::npos || m % 3 != 0 || !d || !y || !h || !mi || !sec) return std::nullopt;
  return make_time(*y, static_cast<int>(m / 3 + 1), *d, *h, *mi, *sec, milliseconds(0), 0);
}

rate_limit_info read_rate_limit_headers(const std::vector<std::pair<std::string, std::string>>& headers,
                                        system_clock::time_point now) {
  rate_limit_info info;
  auto later = [&](std::optional<milliseconds> wait) {
    if (wait && (!info.retry_after || *wait > *info.retry_after)) info.retry_after = wait;
  };
  std::string lowered;
  for (const auto& [raw_name, value] : headers) {
    std::string_view name = raw_name;
    if (std::any_of(raw_name.begin(), raw_name.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
      name = lowered = lowercase(raw_name);
    if (!is_rate_limit_header(name)) continue;
    if (name == "retry-after") {
      if (auto secs = parse_number(value)) later(from_seconds(*secs));
      else if (auto t = parse_http_date(value)) later(until(*t, now));
    } else if (name == "retry-after-ms") {
      if (auto ms = parse_number(value)) later(milliseconds(static_cast<std::int64_t>(std::ceil(*ms))));
    } else if (name == "x-ratelimit-reset-requests" || name == "x-ratelimit-reset-tokens") {
      later(parse_duration(value));
    } else if (name == "x-ratelimit-reset") {
      later(parse_bare_reset(value, now));
    } else if (name.rfind("anthropic-ratelimit-", 0) == 0 && ends_with(name, "-reset")) {
      if (auto t = parse_rfc3339(value)) later(until(*t, now));
    } else if (name == "x-ratelimit-remaining-requests" || name == "x-ratelimit-remaining" ||
               name == "anthropic-ratelimit-requests-remaining") {
      keep_min(info.remaining_requests, parse_count(value));
    } else if (name == "x-ratelimit-remaining-tokens" ||
               (name.rfind("anthropic-ratelimit-", 0) == 0 && ends_with(name, "tokens-remaining"))) {
      keep_min(info.remaining_tokens, parse_count(value));
    }
  }
  return info;
}

bool is_rate_limit_header(std::string_view name) {
  auto starts = [&](std::string_view prefix) { return name.substr(0, prefix.size()) == prefix; };
  return starts("retry-after") || starts("x-ratelimit-") || starts("anthropic-ratelimit-");
}

}  // namespace sb::providers
