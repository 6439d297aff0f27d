#pragma once
#include <string>

namespace sb {

/// One server-sent event as received from upstream: net/sse parses the
/// bytes, providers' stream decoders read the events.
struct sse_event {
  std::string event;  // empty when the stream sent no "event:" line
  std::string data;   // the data lines joined with '\n'
};

}  // namespace sb
