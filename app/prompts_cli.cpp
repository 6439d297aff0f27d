#include "app/prompts_cli.hpp"

#include <iostream>
#include <string>
#include <vector>

#include "prompts/prompts_command.hpp"

namespace sb {

int run_prompts_cli(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);  // drop the program name
  if (!args.empty() && args.front() == "prompts") args.erase(args.begin());
  return prompts::run_prompts_command(args, std::cout, std::cerr);
}

}  // namespace sb
