#include "prompts/bucketing.hpp"

namespace sb::prompts {

namespace {

constexpr std::uint64_t fnv_offset_basis = 14695981039346656037ULL;
constexpr std::uint64_t fnv_prime = 1099511628211ULL;

std::uint64_t fnv1a64_continue(std::uint64_t hash, std::string_view data) {
  for (unsigned char byte : data) {
    hash ^= byte;
    hash *= fnv_prime;
  }
  return hash;
}

}  // namespace

std::uint64_t fnv1a64(std::string_view data) { return fnv1a64_continue(fnv_offset_basis, data); }

int canary_bucket(std::string_view prompt_name, std::string_view user_id) {
  // Hashing the three parts in turn equals hashing their concatenation,
  // without building the string on every request.
  std::uint64_t hash = fnv1a64_continue(fnv_offset_basis, prompt_name);
  hash = fnv1a64_continue(hash, ":");
  hash = fnv1a64_continue(hash, user_id);
  return static_cast<int>(hash % 100);
}

bool in_canary(std::string_view prompt_name, std::string_view user_id, int percent) {
  return canary_bucket(prompt_name, user_id) < percent;
}

}  // namespace sb::prompts
