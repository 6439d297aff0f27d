#pragma once
// `switchboard prompts new|lock|list [--dir DIR]`, as a function of its
// arguments and two streams so tests run it without a process.

#include <ostream>
#include <string>
#include <vector>

namespace sb::prompts {

/// The default prompts directory, relative to the working directory (SPEC's
/// prompts_dir default).
inline constexpr const char* default_prompts_dir = "prompts";

/// Runs one command. `args` are the words after "prompts", e.g.
/// {"new", "greeting", "--dir", "/srv/prompts"}. Results go to `out`, problems
/// to `err`. Returns the exit code: 0 done, 2 refused (with a message saying
/// why and naming the file).
int run_prompts_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace sb::prompts
