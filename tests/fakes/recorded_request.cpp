#include "tests/fakes/recorded_request.hpp"

#include <cctype>

namespace sb::fakes {

std::string recorded_request::header(std::string_view name) const {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = headers.find(lower);
  return it == headers.end() ? std::string() : it->second;
}

}  // namespace sb::fakes
