#pragma once
// The `switchboard prompts ...` subcommand (SPEC section 8); the work is in
// prompts/prompts_command.hpp, where the tests reach it.

namespace sb {

/// Takes main's argc/argv unchanged (argv[1] == "prompts"; argv + 1 with
/// argv[0] == "prompts" works too). Prints to stdout/stderr and returns the
/// exit code: 0 done, 2 refused.
int run_prompts_cli(int argc, char** argv);

}  // namespace sb
