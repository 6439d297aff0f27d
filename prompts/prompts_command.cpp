#include "prompts/prompts_command.hpp"

#include "prompts/prompt_files.hpp"
#include "prompts/prompt_library.hpp"

namespace sb::prompts {

namespace {

constexpr int exit_ok = 0;
constexpr int exit_refused = 2;

const char* const usage =
    "usage: switchboard prompts <command> [--dir DIR]\n"
    "  new NAME   write the next version of NAME (a copy of the newest, or an\n"
    "             empty v1.txt) and print its path; never overwrites\n"
    "  lock       record in prompts.lock the sha256 of every version not yet\n"
    "             locked; refuses if a locked file changed\n"
    "  list       show prompts, versions, lock state and rollout; exits 2 when\n"
    "             the gateway would refuse to start with these files\n"
    "  --dir DIR  the prompts directory (default: prompts)\n";

struct parsed_args {
  std::string dir = default_prompts_dir;
  std::vector<std::string> words;  // the command and its operands
};

// Splits --dir DIR / --dir=DIR from the other words; an empty string on success.
std::string parse_args(const std::vector<std::string>& args, parsed_args& parsed) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--dir") {
      if (i + 1 == args.size() || args[i + 1].empty()) return "--dir needs a directory";
      parsed.dir = args[++i];
    } else if (a.rfind("--dir=", 0) == 0) {
      if (a.size() == 6) return "--dir needs a directory";
      parsed.dir = a.substr(6);
    } else if (a.size() > 1 && a[0] == '-' && a != "-h" && a != "--help") {
      return "unknown option " + a;
    } else {
      parsed.words.push_back(a);
    }
  }
  return "";
}

int refuse(std::ostream& err, const std::string& message) {
  err << "switchboard prompts: " << message << "\n";
  return exit_refused;
}

int run_new(const parsed_args& a, std::ostream& out, std::ostream& err) {
  if (a.words.size() != 2) return refuse(err, "usage: switchboard prompts new NAME [--dir DIR]");
  auto created = create_next_version(a.dir, a.words[1]);
  if (!created) return refuse(err, created.error().message);
  out << created.value().path << "\n";
  return exit_ok;
}

int run_lock(const parsed_args& a, std::ostream& out, std::ostream& err) {
  if (a.words.size() != 1) return refuse(err, "usage: switchboard prompts lock [--dir DIR]");
  auto locked = lock_new_versions(a.dir);
  if (!locked) return refuse(err, locked.error().message);
  if (locked.value().empty()) out << "nothing to lock: every version is in prompts.lock\n";
  for (const auto& path : locked.value()) out << "locked " << path << "\n";
  return exit_ok;
}

int run_list(const parsed_args& a, std::ostream& out, std::ostream& err) {
  if (a.words.size() != 1) return refuse(err, "usage: switchboard prompts list [--dir DIR]");
  auto listing = describe_prompts(a.dir);
  if (!listing) return refuse(err, listing.error().message);
  out << listing.value();
  // The same check the gateway makes at start, so `list` doubles as a pre-deploy check.
  auto library = prompt_library::load(a.dir);
  if (!library) return refuse(err, "the gateway would not start: " + library.error().message);
  return exit_ok;
}

}  // namespace

int run_prompts_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  parsed_args a;
  if (auto problem = parse_args(args, a); !problem.empty()) {
    err << "switchboard prompts: " << problem << "\n" << usage;
    return exit_refused;
  }
  if (a.words.empty()) {
    err << usage;
    return exit_refused;
  }
  const std::string& command = a.words[0];
  if (command == "help" || command == "-h" || command == "--help") {
    out << usage;
    return exit_ok;
  }
  if (command == "new") return run_new(a, out, err);
  if (command == "lock") return run_lock(a, out, err);
  if (command == "list") return run_list(a, out, err);
  err << "switchboard prompts: unknown command '" << command << "'\n" << usage;
  return exit_refused;
}

}  // namespace sb::prompts
