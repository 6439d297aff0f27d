// The fake provider as its own process, for the Node SDK test, the benchmark
// and manual runs. Scripted over HTTP: see tests/fakes/README.md.

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include "tests/fakes/fake_provider.hpp"

namespace {

[[noreturn]] void usage(const char* problem) {
  std::cerr << "fake_provider: " << problem << "\n"
            << "usage: fake_provider --port N [--host 127.0.0.1] [--threads N] [--tls-cert F --tls-key F]\n"
            << "                     [--text \"...\"] [--chunks N] [--chunk-delay-ms N] [--no-record]\n";
  std::exit(2);
}

int to_int(const std::string& flag, const char* value) {
  try {
    return std::stoi(value);
  } catch (const std::exception&) {
    usage((flag + " needs a number").c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  sb::fakes::fake_options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--no-record") {
      options.record_requests = false;
      continue;
    }
    if (flag == "--help" || flag == "-h") usage("help");
    if (i + 1 >= argc) usage((flag + " needs a value").c_str());
    const char* value = argv[++i];
    if (flag == "--port") options.port = static_cast<unsigned short>(to_int(flag, value));
    else if (flag == "--host") options.host = value;
    else if (flag == "--threads") options.threads = to_int(flag, value);
    else if (flag == "--tls-cert") options.tls_cert_file = value;
    else if (flag == "--tls-key") options.tls_key_file = value;
    else if (flag == "--text") options.text = value;
    else if (flag == "--chunks") options.chunks = to_int(flag, value);
    else if (flag == "--chunk-delay-ms") options.chunk_delay = std::chrono::milliseconds(to_int(flag, value));
    else usage(("unknown option " + flag).c_str());
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty())
    usage("--tls-cert and --tls-key go together");

  // Block the stop signals before the server threads start, so only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  try {
    sb::fakes::fake_provider fake(options);
    // Parents wait for this line before sending requests.
    std::cout << "listening on " << fake.port() << std::endl;
    int received = 0;
    sigwait(&signals, &received);
    fake.stop();
  } catch (const std::exception& e) {
    std::cerr << "fake_provider: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
