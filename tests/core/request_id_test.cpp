#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <thread>

#include "core/request_id.hpp"

using namespace sb;

TEST_CASE("request ids are req_ plus 28 lowercase hex characters") {
  auto id = new_request_id();
  REQUIRE(id.size() == 32);
  CHECK(id.rfind("req_", 0) == 0);
  for (char c : id.substr(4)) CHECK(std::string("0123456789abcdef").find(c) != std::string::npos);
}

TEST_CASE("request ids do not repeat - across threads either") {
  std::set<std::string> seen;
  for (int i = 0; i < 100000; ++i) seen.insert(new_request_id());
  std::vector<std::string> other(1000);
  std::thread t([&] {
    for (auto& id : other) id = new_request_id();
  });
  t.join();
  for (const auto& id : other) seen.insert(id);
  CHECK(seen.size() == 101000);
}

TEST_CASE("request ids sort by creation time") {
  auto first = new_request_id();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto second = new_request_id();
  CHECK(first < second);
  // The time prefix is the Unix time in milliseconds.
  auto ms = std::stoull(second.substr(4, 12), nullptr, 16);
  auto now = static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::system_clock::now().time_since_epoch())
                                                 .count());
  CHECK(ms <= now);
  CHECK(now - ms < 5000);
}
