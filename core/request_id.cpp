#include "core/request_id.hpp"

#include <chrono>
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
  id.reserve(4 + 28);
  // Time first: ids sort by creation, so the ledger's unique index on
  // request_id grows at its end instead of at random pages (a row per call).
  auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  for (int shift = 44; shift >= 0; shift -= 4) id += hex[(ms >> shift) & 0x0f];
  std::uint64_t bits = generator();
  for (int i = 0; i < 16; ++i) {
    id += hex[bits & 0x0f];
    bits >>= 4;
  }
  return id;
}

}  // namespace sb
