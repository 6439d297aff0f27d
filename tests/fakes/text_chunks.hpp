#pragma once
// Splitting reply text into stream chunks and counting prompt words, so the
// usage the fake reports is predictable from the test's inputs.

#include <string>
#include <string_view>
#include <vector>

namespace sb::fakes {

// Up to n non-empty pieces that concatenate to `text`: whole words (with their
// leading space, like real token deltas) when there are at least n words,
// else UTF-8 characters. Empty text gives no pieces.
std::vector<std::string> split_into_chunks(std::string_view text, int n);

// Whitespace-separated words.
int count_words(std::string_view text);

}  // namespace sb::fakes
