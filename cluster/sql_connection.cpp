#include "cluster/sql_connection.hpp"

#include <cstdlib>

namespace sb::cluster {

std::int64_t sql_int(const std::string& text) { return std::strtoll(text.c_str(), nullptr, 10); }

}  // namespace sb::cluster
