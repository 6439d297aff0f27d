#include "cluster/store_error.hpp"

namespace sb::cluster {

const char* to_string(store_errc c) {
  switch (c) {
    case store_errc::bad_url: return "bad_url";
    case store_errc::unavailable: return "unavailable";
    case store_errc::query_failed: return "query_failed";
    case store_errc::bad_input: return "bad_input";
  }
  return "unknown";
}

std::string store_error::to_string() const {
  return std::string(cluster::to_string(code)) + ": " + message;
}

}  // namespace sb::cluster
