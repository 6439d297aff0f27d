#include "tests/fakes/reply_plan.hpp"

#include <strings.h>

namespace sb::fakes {

void reply_plan::set_header(std::string name, std::string value) {
  for (auto& [n, v] : headers)
    if (::strcasecmp(n.c_str(), name.c_str()) == 0) {
      v = std::move(value);
      return;
    }
  headers.emplace_back(std::move(name), std::move(value));
}

reply_plan json_plan(int status, std::string body) {
  reply_plan plan;
  plan.status = status;
  plan.set_header("content-type", "application/json");
  plan.body = std::move(body);
  return plan;
}

}  // namespace sb::fakes
