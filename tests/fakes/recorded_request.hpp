#pragma once
// One request as the fake received it: what tests assert on.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tests/fakes/wire_format.hpp"

namespace sb::fakes {

struct recorded_request {
  std::string method;   // "POST"
  std::string target;   // path and query, as sent
  std::map<std::string, std::string> headers;  // names lowercased; repeats joined by ", "
  std::string body;
  std::optional<wire_format> format;  // which provider API the path addressed
  std::string api_key;  // from Authorization: Bearer, x-api-key or x-goog-api-key/?key=
  std::uint64_t connection_id = 0;    // same id = same (kept-alive) connection
  std::chrono::steady_clock::time_point received_at;

  // The header's value, or "" (name in any case).
  std::string header(std::string_view name) const;
};

}  // namespace sb::fakes
