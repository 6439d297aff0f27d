#pragma once
// Errors of the storage clients (ledger and quota stores), as values: a store
// call never throws; the caller decides whether a failure retries, fails
// closed or is reported.

#include <optional>
#include <string>
#include <utility>

namespace sb::cluster {

enum class store_errc {
  bad_url,       // DATABASE_URL / REDIS_URL cannot be understood
  unavailable,   // cannot reach the server (connect, timeout, connection lost)
  query_failed,  // the server answered with an error
  bad_input,     // the caller passed something the store refuses (bad period, …)
};

const char* to_string(store_errc c);

struct store_error {
  store_errc code = store_errc::query_failed;
  std::string message;
  [[nodiscard]] std::string to_string() const;
};

/// nullopt = success.
using store_status = std::optional<store_error>;

/// A value or the error that kept it from being produced.
template <class T>
class store_result {
 public:
  store_result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  store_result(store_error error) : error_(std::move(error)) {}  // NOLINT

  [[nodiscard]] bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  [[nodiscard]] T& value() { return *value_; }
  [[nodiscard]] const T& value() const { return *value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  [[nodiscard]] const store_error& error() const { return *error_; }

 private:
  std::optional<T> value_;
  std::optional<store_error> error_;
};

inline store_error make_store_error(store_errc c, std::string message) {
  return store_error{c, std::move(message)};
}

}  // namespace sb::cluster
