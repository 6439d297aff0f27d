#pragma once
// Server-sent events, both ways: an incremental parser for upstream bytes and
// the framing for what we send. Plain C++, no Beast.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/sse_event.hpp"

namespace sb::net {

/// Feed it bytes as they arrive, in any split; it yields complete events.
/// Follows the WHATWG rules: "event:", "data:" (joined with '\n'), comments
/// (":") ignored, an event ends at a blank line, CRLF / LF / CR line ends.
class sse_parser {
 public:
  void feed(std::string_view bytes, std::vector<sse_event>& out);

 private:
  std::string line_;  // the part of a line split across feed() calls
  sse_event current_;
  bool has_data_ = false;     // a "data" line was seen, even an empty one
  bool last_was_cr_ = false;  // so a CRLF split across two feeds ends one line
  bool at_stream_start_ = true;  // a UTF-8 BOM may open the stream
  void end_line(std::vector<sse_event>& out);
  void process_line(std::string_view line, std::vector<sse_event>& out);
};

/// "id: <id>\ndata: <data>\n\n" (id omitted when empty).
std::string sse_frame(std::string_view id, std::string_view data);
/// The same frame with id "<id_prefix>:<seq>", appended to `out`: the relay
/// path frames every chunk, and this builds neither the id nor the frame as
/// a string of its own.
void append_sse_frame(std::string& out, std::string_view id_prefix, std::uint64_t seq,
                      std::string_view data);
/// "event: error\ndata: <data>\n\n" style frame with an event name.
std::string sse_named_frame(std::string_view id, std::string_view event, std::string_view data);

}  // namespace sb::net
