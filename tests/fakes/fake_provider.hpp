#pragma once
// An in-process fake of the LLM providers' HTTP APIs (OpenAI chat, Anthropic
// Messages, Gemini) on 127.0.0.1, on its own io_context threads, sharing no
// code with the gateway it tests. See tests/fakes/README.md.
//
//   sb::fakes::fake_provider fake;              // port 0: any free port
//   fake.script(sb::fakes::error_reply(sb::fakes::wire_format::openai, 429));
//   ... point OPENAI_BASE_URL at fake.base_url() + "/v1" ...
//   REQUIRE(fake.received().size() == 2);

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/recorded_request.hpp"
#include "tests/fakes/scripted_reply.hpp"
#include "tests/fakes/wire_format.hpp"

namespace sb::fakes {

struct fake_options {
  std::string host = "127.0.0.1";
  unsigned short port = 0;  // 0: the OS picks; read it back with port()
  int threads = 1;
  // Both set: HTTPS with this PEM certificate chain and key.
  std::string tls_cert_file;
  std::string tls_key_file;
  // What an unscripted request gets: this text in `chunks` content chunks.
  std::string text =
      "Hello from the fake provider. This reply is split into chunks so that streaming, usage and "
      "cancellation can be tested.";
  int chunks = 8;
  std::chrono::milliseconds chunk_delay{0};
  // Off for long benchmarks: received() then stays empty.
  bool record_requests = true;
};

class provider_state;
class fake_server;

class fake_provider {
 public:
  using clock = std::chrono::steady_clock;

  // Listening (and port() known) when the constructor returns; throws on bind failure.
  explicit fake_provider(fake_options options = {});
  ~fake_provider();
  fake_provider(const fake_provider&) = delete;
  fake_provider& operator=(const fake_provider&) = delete;

  unsigned short port() const;
  std::string base_url() const;  // "http://127.0.0.1:PORT" (https with TLS)
  // Closes every connection and joins the threads; idempotent.
  void stop();

  // Replies for the next requests, first in first out.
  void script(scripted_reply reply);
  // For the next request carrying that API key; checked before script()'s queue.
  void script_for_key(std::string api_key, scripted_reply reply);

  // Provider requests received (not /__fake/ control calls), oldest first.
  std::vector<recorded_request> received() const;
  std::size_t request_count() const;
  // True once at least n requests arrived.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;

  std::uint64_t connections_accepted() const;
  std::uint64_t open_connections() const;
  std::uint64_t connections_closed() const;
  // When connections closed (by either side, as the fake saw it): for
  // "upstream closed within 100 ms of the client leaving".
  std::optional<clock::time_point> last_close_time() const;
  std::optional<clock::time_point> close_time(std::uint64_t connection_id) const;
  std::optional<clock::time_point> wait_for_close(std::uint64_t connection_id,
                                                  std::chrono::milliseconds timeout) const;
  // The first close at or after `since`.
  std::optional<clock::time_point> wait_for_close_after(clock::time_point since,
                                                        std::chrono::milliseconds timeout) const;

  // Forgets scripts, received requests, connection counts and close times
  // (open connections stay open and counted).
  void reset();

 private:
  std::shared_ptr<provider_state> state_;
  std::unique_ptr<fake_server> server_;
  bool tls_ = false;
};

}  // namespace sb::fakes
