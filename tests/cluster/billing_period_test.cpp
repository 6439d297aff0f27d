#include <catch2/catch.hpp>

#include "cluster/billing_period.hpp"

using namespace sb::cluster;

TEST_CASE("period_of names the UTC calendar month", "[billing_period]") {
  CHECK(period_of(0) == "1970-01");
  CHECK(period_of(1735689599999) == "2024-12");  // 2024-12-31T23:59:59.999Z
  CHECK(period_of(1735689600000) == "2025-01");  // 2025-01-01T00:00:00Z
  CHECK(period_of(1709164800000) == "2024-02");  // 2024-02-29, leap day
}

TEST_CASE("parse_period gives the first ms of the period and of the next one", "[billing_period]") {
  auto b = parse_period("2024-12");
  REQUIRE(b);
  CHECK(b->start_ms == 1733011200000);
  CHECK(b->end_ms == 1735689600000);
  CHECK(period_of(b->start_ms) == "2024-12");
  CHECK(period_of(b->end_ms - 1) == "2024-12");
  CHECK(period_of(b->end_ms) == "2025-01");
  auto feb = parse_period("2024-02");
  REQUIRE(feb);
  CHECK(feb->end_ms - feb->start_ms == 29LL * 86'400'000);
}

TEST_CASE("parse_period refuses what is not YYYY-MM", "[billing_period]") {
  for (const char* bad : {"", "2024-13", "2024-00", "2024-1", "24-01", "2024/01", "2024-01-01",
                          "abcd-ef", "1969-12"})
    CHECK_FALSE(parse_period(bad));
}

TEST_CASE("period_reset_iso8601 is the next month's first instant", "[billing_period]") {
  CHECK(period_reset_iso8601("2025-03") == "2025-04-01T00:00:00Z");
  CHECK(period_reset_iso8601("2025-12") == "2026-01-01T00:00:00Z");
  CHECK(period_reset_iso8601("nope").empty());
}

TEST_CASE("current_period matches now", "[billing_period]") {
  CHECK(current_period() == period_of(now_ms()));
}
