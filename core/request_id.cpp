#include "core/request_id.hpp"

#include <random>

namespace sb {

std::string new_request_id() {
  // One generator per thread: no lock, and random_device seeds each once so
  // that threads and nodes do not share sequences.
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  static const char hex[] = "0123456789abcdef";
  std::string id = "req_";
  id.reserve(4 + 24);
  std::uint64_t bits = generator();
  for (int i = 0; i < 24; ++i) {
    if (i == 16) bits = generator();
    id += hex[bits & 0x0f];
    bits >>= 4;
  }
  return id;
}

}  // namespace sb
