#pragma once
// Strict, path-aware reading of one JSON object of the config file: every
// problem becomes a config_error naming the key path and saying what was
// expected and what was found.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/config.hpp"

namespace sb {

using maybe_error = std::optional<config_error>;

/// "retry" + "backoff_base_ms" -> "retry.backoff_base_ms"; keys that are not
/// plain identifiers are quoted: prices["openai/gpt-4o"].
std::string child_path(const std::string& parent, const std::string& key);
/// "workspaces" + 1 -> "workspaces[1]".
std::string index_path(const std::string& parent, std::size_t index);
/// A short description of a found value for messages: `the string "abc"`.
std::string describe_json(const nlohmann::json& value);

maybe_error expect_object(const nlohmann::json& value, const std::string& path);
maybe_error expect_array(const nlohmann::json& value, const std::string& path);
maybe_error read_string(const nlohmann::json& value, const std::string& path, std::string& out);
maybe_error read_integer(const nlohmann::json& value, const std::string& path, std::int64_t min,
                         std::int64_t max, std::int64_t& out);
maybe_error read_number(const nlohmann::json& value, const std::string& path, double min,
                        double& out);

/// Reads the optional members of one object; an absent member leaves `out`
/// as it was (the default).
class object_reader {
 public:
  object_reader(const nlohmann::json& object, std::string path)
      : object_(object), path_(std::move(path)) {}

  /// Fails on the first member not in `allowed`: a typo must not pass silently.
  [[nodiscard]] maybe_error only_keys(std::initializer_list<const char*> allowed) const;
  [[nodiscard]] bool has(const char* key) const { return object_.contains(key); }
  [[nodiscard]] std::string path_of(const char* key) const { return child_path(path_, key); }

  [[nodiscard]] maybe_error integer(const char* key, std::int64_t min, std::int64_t max,
                                    std::int64_t& out) const;
  [[nodiscard]] maybe_error integer(const char* key, int min, int max, int& out) const;
  [[nodiscard]] maybe_error size(const char* key, std::size_t min, std::size_t max,
                                 std::size_t& out) const;
  template <class Duration>
  [[nodiscard]] maybe_error duration(const char* key, std::int64_t min, std::int64_t max,
                                     Duration& out) const {
    std::int64_t n = out.count();
    if (auto e = integer(key, min, max, n)) return e;
    out = Duration(n);
    return std::nullopt;
  }
  [[nodiscard]] maybe_error number(const char* key, double min, double& out) const;
  [[nodiscard]] maybe_error string(const char* key, std::string& out) const;

 private:
  const nlohmann::json& object_;
  std::string path_;
};

}  // namespace sb
