// Small pieces every wire format shares.

#include <cstdio>

#include "tests/fakes/fake_formats.hpp"

namespace sb::fakes {

nlohmann::ordered_json arguments_object(const std::string& arguments_json) {
  auto parsed = nlohmann::ordered_json::parse(arguments_json, nullptr, false);
  return parsed.is_object() ? parsed : nlohmann::ordered_json::object();
}

std::string fake_id(const char* prefix, std::uint64_t serial) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%012llu", static_cast<unsigned long long>(serial));
  return std::string(prefix) + digits;
}

}  // namespace sb::fakes
