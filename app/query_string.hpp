#pragma once
// The query of a request target: "a=1&b=x%20y" -> {a: "1", b: "x y"}.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sb {

struct query_params {
  std::map<std::string, std::string> values;
  [[nodiscard]] std::optional<std::string> get(const std::string& name) const {
    auto i = values.find(name);
    if (i == values.end()) return std::nullopt;
    return i->second;
  }
};

query_params parse_query(std::string_view query);

}  // namespace sb
