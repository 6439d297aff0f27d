#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include "core/request_id.hpp"

using namespace sb;

TEST_CASE("request ids are req_ plus 24 lowercase hex characters") {
  auto id = new_request_id();
  REQUIRE(id.size() == 28);
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
