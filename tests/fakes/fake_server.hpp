#pragma once
// The fake's own small async Beast server (plain or TLS): accepts, parses
// requests, keeps connections alive, and executes reply plans with their
// delays, hangs and resets. Independent of the gateway's net/ code on purpose.

#include <memory>

namespace sb::fakes {

class provider_state;

class fake_server {
 public:
  // Bound and listening when this returns; throws std::runtime_error otherwise.
  explicit fake_server(std::shared_ptr<provider_state> state);
  ~fake_server();
  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;

  unsigned short port() const;
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sb::fakes
