// Rate-limit headers -> how long a key cools down and what is left.
#include <catch2/catch.hpp>

#include "providers/rate_limit_headers.hpp"

using namespace std::chrono;
using sb::providers::parse_duration;
using sb::providers::parse_http_date;
using sb::providers::parse_rfc3339;
using sb::providers::read_rate_limit_headers;

namespace {

// 2024-05-01T12:00:00Z
const system_clock::time_point now = system_clock::time_point(seconds(1714564800));

}  // namespace

TEST_CASE("rate limits: OpenAI durations") {
  CHECK(parse_duration("1s") == milliseconds(1000));
  CHECK(parse_duration("6m0s") == milliseconds(360000));
  CHECK(parse_duration("20ms") == milliseconds(20));
  CHECK(parse_duration("1h2m3.5s") == milliseconds(3723500));
  CHECK(parse_duration("0s") == milliseconds(0));
  CHECK(parse_duration("1.25s") == milliseconds(1250));
  CHECK(parse_duration("") == std::nullopt);
  CHECK(parse_duration("soon") == std::nullopt);
  CHECK(parse_duration("5x") == std::nullopt);
  CHECK(parse_duration("s") == std::nullopt);
}

TEST_CASE("rate limits: timestamps") {
  CHECK(parse_rfc3339("2024-05-01T12:00:30Z") == now + seconds(30));
  CHECK(parse_rfc3339("2024-05-01T12:00:30.250Z") == now + milliseconds(30250));
  CHECK(parse_rfc3339("2024-05-01T14:00:30+02:00") == now + seconds(30));
  CHECK(parse_rfc3339("2024-05-01") == std::nullopt);
  CHECK(parse_rfc3339("2024-05-01T12:00:30") == std::nullopt);
  CHECK(parse_http_date("Wed, 01 May 2024 12:01:00 GMT") == now + seconds(60));
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == system_clock::time_point(seconds(784111777)));
  CHECK(parse_http_date("Wed, 01 Foo 2024 12:01:00 GMT") == std::nullopt);
}

TEST_CASE("rate limits: OpenAI headers") {
  auto info = read_rate_limit_headers({{"x-ratelimit-limit-requests", "500"},
                                       {"x-ratelimit-remaining-requests", "0"},
                                       {"x-ratelimit-remaining-tokens", "149984"},
                                       {"x-ratelimit-reset-requests", "120ms"},
                                       {"x-ratelimit-reset-tokens", "6m0s"}},
                                      now);
  CHECK(info.retry_after == milliseconds(360000));  // the latest wins
  CHECK(info.remaining_requests == 0);
  CHECK(info.remaining_tokens == 149984);
}

TEST_CASE("rate limits: retry-after as seconds - as a date - and in milliseconds") {
  CHECK(read_rate_limit_headers({{"retry-after", "7"}}, now).retry_after == milliseconds(7000));
  CHECK(read_rate_limit_headers({{"retry-after", "Wed, 01 May 2024 12:00:20 GMT"}}, now).retry_after == milliseconds(20000));
  CHECK(read_rate_limit_headers({{"retry-after", "Wed, 01 May 2024 11:00:00 GMT"}}, now).retry_after == milliseconds(0));
  CHECK(read_rate_limit_headers({{"retry-after-ms", "1500"}, {"retry-after", "1"}}, now).retry_after == milliseconds(1500));
  CHECK(read_rate_limit_headers({{"retry-after", "whenever"}}, now).retry_after == std::nullopt);
  CHECK(read_rate_limit_headers({{"Retry-After", "3"}}, now).retry_after == milliseconds(3000));
}

TEST_CASE("rate limits: Anthropic headers") {
  auto info = read_rate_limit_headers({{"retry-after", "5"},
                                       {"anthropic-ratelimit-requests-limit", "50"},
                                       {"anthropic-ratelimit-requests-remaining", "49"},
                                       {"anthropic-ratelimit-requests-reset", "2024-05-01T12:00:01Z"},
                                       {"anthropic-ratelimit-tokens-remaining", "0"},
                                       {"anthropic-ratelimit-tokens-reset", "2024-05-01T12:00:42Z"},
                                       {"anthropic-ratelimit-input-tokens-remaining", "0"},
                                       {"anthropic-ratelimit-input-tokens-reset", "2024-05-01T12:00:42Z"},
                                       {"anthropic-ratelimit-output-tokens-remaining", "8000"},
                                       {"anthropic-ratelimit-output-tokens-reset", "2024-05-01T12:00:10Z"}},
                                      now);
  CHECK(info.retry_after == milliseconds(42000));
  CHECK(info.remaining_requests == 49);
  CHECK(info.remaining_tokens == 0);
}

TEST_CASE("rate limits: OpenRouter's epoch-millisecond reset - nothing said") {
  auto info = read_rate_limit_headers({{"x-ratelimit-limit", "20"}, {"x-ratelimit-remaining", "0"},
                                       {"x-ratelimit-reset", "1714564812000"}},
                                      now);
  CHECK(info.retry_after == milliseconds(12000));
  CHECK(info.remaining_requests == 0);

  auto none = read_rate_limit_headers({{"content-type", "application/json"}}, now);
  CHECK_FALSE(none.retry_after);
  CHECK_FALSE(none.remaining_requests);
  CHECK_FALSE(none.remaining_tokens);
}

TEST_CASE("is_rate_limit_header picks exactly the headers the reader reads", "[rate_limit]") {
  using sb::providers::is_rate_limit_header;
  for (const char* name : {"retry-after", "retry-after-ms", "x-ratelimit-remaining-requests", "x-ratelimit-reset",
                           "anthropic-ratelimit-tokens-reset", "anthropic-ratelimit-requests-remaining"})
    CHECK(is_rate_limit_header(name));
  for (const char* name : {"content-type", "server", "date", "x-request-id", "openai-processing-ms", "retry", ""})
    CHECK_FALSE(is_rate_limit_header(name));
  // What the session hands the key actor after filtering reads the same as the whole head.
  std::vector<std::pair<std::string, std::string>> all = {
      {"content-type", "application/json"}, {"x-ratelimit-remaining-requests", "3"},
      {"server", "nginx"}, {"retry-after", "2"}};
  std::vector<std::pair<std::string, std::string>> kept;
  for (auto& h : all)
    if (is_rate_limit_header(h.first)) kept.push_back(h);
  CHECK(kept.size() == 2);
  auto now = std::chrono::system_clock::now();
  auto a = sb::providers::read_rate_limit_headers(all, now);
  auto b = sb::providers::read_rate_limit_headers(kept, now);
  CHECK(a.remaining_requests == b.remaining_requests);
  CHECK(a.retry_after == b.retry_after);
  REQUIRE(b.retry_after);
  CHECK(b.retry_after->count() == 2000);
}
