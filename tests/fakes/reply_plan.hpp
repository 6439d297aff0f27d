#pragma once
// The format-neutral answer the server executes: which status and headers,
// then either one body or a list of SSE events written with timing and
// failure injection. Formats build plans; only the server touches sockets.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace sb::fakes {

struct sse_event {
  std::string frame;     // complete on the wire, blank-line terminator included
  bool content = false;  // counts as a content chunk (delays, resets apply)
};

struct reply_plan {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // content-type included
  bool streamed = false;          // chunked transfer of `events`; else `body`
  std::string body;
  std::vector<sse_event> events;
  std::chrono::milliseconds head_delay{0};
  std::chrono::milliseconds chunk_delay{0};
  int reset_after_chunks = -1;
  bool hang = false;

  // Sets a header, replacing one of the same name (case-insensitive).
  void set_header(std::string name, std::string value);
};

// A JSON answer that is not a provider reply (control API, unknown paths).
reply_plan json_plan(int status, std::string body);

}  // namespace sb::fakes
