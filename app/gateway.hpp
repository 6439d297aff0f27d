#pragma once
// The running gateway: I/O threads, the actor system, the front door, the
// providers. main() builds one from a config and runs it until SIGTERM;
// integration tests build one in-process on a free port.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "app/registries.hpp"
#include "core/config.hpp"

namespace sb {

struct gateway_options {
  /// Threads that run the sockets and (by default) the actors: one per core.
  std::size_t io_threads = std::max(1u, std::thread::hardware_concurrency());
  /// true: actors run on the I/O threads (app/io_scheduler.hpp); false: on
  /// `actor_threads` CAF scheduler threads of their own (CAF's default
  /// work-stealing scheduler; kept to compare in benchmarks and tests).
  bool actors_on_io_threads = true;
  std::size_t actor_threads = 2;
  std::string upstream_ca_file;  // extra CA bundle for upstream TLS (tests)
  /// Already loaded (main loads them first, to exit 2 on a bad file);
  /// empty = start() loads them from the config.
  std::optional<registries> preloaded;
  /// Back-pressure (tests shrink them): unread bytes before a stream is
  /// cut, and how long a client may stop reading before it is dropped.
  std::size_t max_stream_backlog_bytes = 1u << 20;
  std::chrono::milliseconds write_stall_timeout{30000};
};

class gateway {
 public:
  gateway(gateway_config cfg, gateway_options opts = {});
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// Binds and starts serving on background threads. Returns an error text,
  /// empty on success.
  std::string start();
  [[nodiscard]] std::uint16_t port() const;
  /// SIGHUP: reloads prompts and tools; on a problem keeps the old ones and
  /// returns the message (empty on success). Connections stay up.
  std::string reload();
  /// Stops accepting, waits up to limits.drain for in-flight requests, then
  /// closes everything. Idempotent.
  void drain_and_stop();
  /// Blocks until drain_and_stop() finished (main's SIGTERM path).
  void wait();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sb
