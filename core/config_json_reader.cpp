#include "core/config_json_reader.hpp"

#include <cctype>
#include <cmath>
#include <limits>

namespace sb {
namespace {

bool is_plain_identifier(const std::string& key) {
  if (key.empty()) return false;
  for (unsigned char c : key)
    if (!(std::isalnum(c) || c == '_' || c == '-')) return false;
  return true;
}

std::string range_text(std::int64_t min, std::int64_t max) {
  if (max == std::numeric_limits<std::int64_t>::max())
    return min == 0 ? "a non-negative integer" : "an integer >= " + std::to_string(min);
  return "an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

}  // namespace

std::string child_path(const std::string& parent, const std::string& key) {
  if (is_plain_identifier(key)) return parent.empty() ? key : parent + "." + key;
  return parent + "[" + nlohmann::json(key).dump() + "]";
}

std::string index_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string describe_json(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: {
      std::string text = value.dump();
      if (text.size() > 50) text = text.substr(0, 46) + "...\"";
      return "the string " + text;
    }
    default: return "the number " + value.dump();
  }
}

maybe_error expect_object(const nlohmann::json& value, const std::string& path) {
  if (value.is_object()) return std::nullopt;
  return config_error{path, "expected an object, got " + describe_json(value)};
}

maybe_error expect_array(const nlohmann::json& value, const std::string& path) {
  if (value.is_array()) return std::nullopt;
  return config_error{path, "expected an array, got " + describe_json(value)};
}

maybe_error read_string(const nlohmann::json& value, const std::string& path, std::string& out) {
  if (!value.is_string())
    return config_error{path, "expected a string, got " + describe_json(value)};
  out = value.get<std::string>();
  return std::nullopt;
}

maybe_error read_integer(const nlohmann::json& value, const std::string& path, std::int64_t min,
                         std::int64_t max, std::int64_t& out) {
  const auto expected = "expected " + range_text(min, max) + ", got " + describe_json(value);
  if (value.is_number_unsigned()) {
    auto n = value.get<std::uint64_t>();
    if (n > static_cast<std::uint64_t>(max)) return config_error{path, expected};
    out = static_cast<std::int64_t>(n);
  } else if (value.is_number_integer()) {
    auto n = value.get<std::int64_t>();
    if (n < min || n > max) return config_error{path, expected};
    out = n;
  } else {
    return config_error{path, expected};
  }
  if (out < min) return config_error{path, expected};
  return std::nullopt;
}

maybe_error read_number(const nlohmann::json& value, const std::string& path, double min,
                        double& out) {
  if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() < min) {
    auto want = min == 0 ? std::string("a non-negative number") : "a number >= " + std::to_string(min);
    return config_error{path, "expected " + want + ", got " + describe_json(value)};
  }
  out = value.get<double>();
  return std::nullopt;
}

maybe_error object_reader::only_keys(std::initializer_list<const char*> allowed) const {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    bool known = false;
    for (const char* name : allowed) known = known || it.key() == name;
    if (known) continue;
    std::string list;
    for (const char* name : allowed) list += (list.empty() ? "" : ", ") + std::string(name);
    return config_error{child_path(path_, it.key()), "unknown key; expected one of: " + list};
  }
  return std::nullopt;
}

maybe_error object_reader::integer(const char* key, std::int64_t min, std::int64_t max,
                                   std::int64_t& out) const {
  if (!object_.contains(key)) return std::nullopt;
  return read_integer(object_.at(key), path_of(key), min, max, out);
}

maybe_error object_reader::integer(const char* key, int min, int max, int& out) const {
  std::int64_t n = out;
  if (auto e = integer(key, std::int64_t{min}, std::int64_t{max}, n)) return e;
  out = static_cast<int>(n);
  return std::nullopt;
}

maybe_error object_reader::size(const char* key, std::size_t min, std::size_t max,
                                std::size_t& out) const {
  std::int64_t n = static_cast<std::int64_t>(out);
  if (auto e = integer(key, static_cast<std::int64_t>(min), static_cast<std::int64_t>(max), n))
    return e;
  out = static_cast<std::size_t>(n);
  return std::nullopt;
}

maybe_error object_reader::number(const char* key, double min, double& out) const {
  if (!object_.contains(key)) return std::nullopt;
  return read_number(object_.at(key), path_of(key), min, out);
}

maybe_error object_reader::string(const char* key, std::string& out) const {
  if (!object_.contains(key)) return std::nullopt;
  return read_string(object_.at(key), path_of(key), out);
}

}  // namespace sb
