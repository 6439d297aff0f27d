// switchboard [--config FILE] [--listen HOST:PORT]
// Exit codes: 0 after a clean SIGTERM drain, 1 when it cannot serve (port in
// use), 2 for a configuration the gateway refuses (SPEC section 1).

#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <pthread.h>

#include "app/gateway.hpp"
#include "app/prompts_cli.hpp"
#include "app/registries.hpp"
#include "core/config.hpp"
#include "core/log.hpp"

namespace {

constexpr const char* usage =
    "usage: switchboard [--config FILE] [--listen HOST:PORT]\n"
    "       switchboard prompts new NAME | lock | list [--dir DIR]\n"
    "  --config FILE       JSON config (default: ./switchboard.json when present)\n"
    "  --listen HOST:PORT  listen address (default 127.0.0.1:8080, env GATEWAY_LISTEN)\n"
    "Provider keys come from the environment: OPENAI_API_KEY, ANTHROPIC_API_KEY, …\n"
    "(see README.md).\n";

struct cli {
  std::string config_file;
  std::string listen;
};

int parse_cli(int argc, char** argv, cli& out) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::cerr << "switchboard: " << name << " needs a value\n" << usage;
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << usage;
      return 0;
    } else if (a == "--config") {
      auto v = value("--config");
      if (!v) return 2;
      out.config_file = v;
    } else if (a.rfind("--config=", 0) == 0) {
      out.config_file = a.substr(9);
    } else if (a == "--listen") {
      auto v = value("--listen");
      if (!v) return 2;
      out.listen = v;
    } else if (a.rfind("--listen=", 0) == 0) {
      out.listen = a.substr(9);
    } else {
      std::cerr << "switchboard: unknown argument '" << a << "'\n" << usage;
      return 2;
    }
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "prompts") == 0) return sb::run_prompts_cli(argc, argv);
  cli args;
  if (int rc = parse_cli(argc, argv, args); rc >= 0) return rc;

  if (args.config_file.empty() && std::ifstream("switchboard.json").good())
    args.config_file = "switchboard.json";
  auto loaded = sb::load_config(args.config_file, sb::process_environment());
  if (loaded.error) {
    std::cerr << "switchboard: configuration error: " << loaded.error->to_string() << "\n";
    return 2;
  }
  auto cfg = std::move(*loaded.config);
  if (!args.listen.empty()) {
    auto hp = sb::parse_listen_address(args.listen);
    if (!hp) {
      std::cerr << "switchboard: configuration error: --listen: expected HOST:PORT, got \""
                << args.listen << "\"\n";
      return 2;
    }
    cfg.listen_host = hp->first;
    cfg.listen_port = hp->second;
  }
  if (cfg.open_mode() && !sb::is_loopback_host(cfg.listen_host)) {
    std::cerr << "switchboard: refusing to listen on " << cfg.listen_host
              << ": no workspaces are configured, so every client would be served without "
                 "authentication. Configure \"workspaces\" (with api_key_sha256) or listen on "
                 "127.0.0.1.\n";
    return 2;
  }
  if (cfg.providers.empty())
    sb::log::warn("no provider API key is configured: chat requests will get 503 "
                  "no_providers_configured. Set OPENAI_API_KEY, ANTHROPIC_API_KEY, "
                  "GOOGLE_API_KEY (or GEMINI_API_KEY), OPENROUTER_API_KEY, DEEPSEEK_API_KEY or "
                  "HUGGINGFACE_API_KEY (or HF_TOKEN).");
  for (auto& p : cfg.providers)
    sb::log::info("provider " + p.id + ": " + std::to_string(p.keys.size()) + " key(s), " +
                  std::to_string(p.models.size()) + " model(s), " + p.base_url);

  // Signals are taken by one thread with sigwait, never by a handler: block
  // them before any thread starts so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Prompt files and tool schemas are checked before anything listens: a
  // tampered locked prompt or an invalid schema stops the start (exit 2).
  auto regs = sb::load_registries(cfg);
  if (auto* e = std::get_if<std::string>(&regs)) {
    std::cerr << "switchboard: configuration error: " << *e << "\n";
    return 2;
  }
  for (auto& w : std::get<sb::registries>(regs).warnings) sb::log::warn(w);

  auto drain_ms = cfg.limits.drain.count();
  bool open_mode = cfg.open_mode();
  sb::gateway_options opts;
  if (cfg.io_threads) opts.io_threads = *cfg.io_threads;
  opts.preloaded = std::move(std::get<sb::registries>(regs));
  sb::gateway gw(std::move(cfg), std::move(opts));
  if (auto err = gw.start(); !err.empty()) {
    std::cerr << "switchboard: cannot listen: " << err << "\n";
    return 1;
  }
  sb::log::info("listening on port " + std::to_string(gw.port()) + (open_mode ? " (open mode: workspace \"default\", no client authentication)" : ""));

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      if (auto err = gw.reload(); !err.empty())
        sb::log::error("SIGHUP: reload refused, keeping the previous prompts and tools: " + err);
      else
        sb::log::info("SIGHUP: prompts and tools reloaded");
      continue;
    }
    sb::log::info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                  ": draining in-flight requests (up to " + std::to_string(drain_ms) + " ms)");
    gw.drain_and_stop();
    sb::log::info("stopped");
    return 0;
  }
}
