#include "net/sse.hpp"

#include <charconv>
#include <cstring>

namespace sb::net {

namespace {

/// The first CR or LF at or after `from`. Two memchr passes (SIMD in glibc),
/// the CR one bounded by the LF found: a byte loop here was a tenth of a
/// stream's instructions, and find_first_of("\r\n") was worse.
std::size_t find_line_end(std::string_view s, std::size_t from = 0) {
  if (from >= s.size()) return std::string_view::npos;
  const char* start = s.data() + from;
  auto rest = s.size() - from;
  auto* lf = static_cast<const char*>(std::memchr(start, '\n', rest));
  auto before_lf = lf ? static_cast<std::size_t>(lf - start) : rest;
  if (auto* cr = static_cast<const char*>(std::memchr(start, '\r', before_lf)))
    return static_cast<std::size_t>(cr - s.data());
  return lf ? static_cast<std::size_t>(lf - s.data()) : std::string_view::npos;
}

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

// Appends `data` as one "data:" line per line of it: a raw newline inside a
// single "data:" line would end the field early on the client's side.
void append_data_lines(std::string& frame, std::string_view data) {
  std::size_t start = 0;
  while (true) {
    auto end = find_line_end(data, start);
    frame += "data: ";
    frame += data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    frame += '\n';
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
    if (data[end] == '\r' && start < data.size() && data[start] == '\n') {
      ++start;
    }
  }
}
}  // namespace

void sse_parser::feed(std::string_view bytes, std::vector<sse_event>& out) {
  while (!bytes.empty()) {
    if (last_was_cr_) {
      last_was_cr_ = false;
      if (bytes.front() == '\n') {  // the LF of a CRLF whose CR ended the last feed
        bytes.remove_prefix(1);
        continue;
      }
    }
    auto end = find_line_end(bytes);
    if (end == std::string_view::npos) {
      line_.append(bytes);
      return;
    }
    if (line_.empty()) {
      // The common case, a whole line inside this feed: no copy.
      process_line(bytes.substr(0, end), out);
    } else {
      line_.append(bytes.substr(0, end));
      end_line(out);
    }
    if (bytes[end] == '\r') {
      if (end + 1 < bytes.size()) {
        if (bytes[end + 1] == '\n') {
          ++end;
        }
      } else {
        last_was_cr_ = true;
      }
    }
    bytes.remove_prefix(end + 1);
  }
}

void sse_parser::end_line(std::vector<sse_event>& out) {
  process_line(line_, out);
  line_.clear();
}

void sse_parser::process_line(std::string_view line, std::vector<sse_event>& out) {
  if (at_stream_start_) {
    at_stream_start_ = false;
    if (line.substr(0, utf8_bom.size()) == utf8_bom) {
      line.remove_prefix(utf8_bom.size());
    }
  }
  if (line.empty()) {
    // An event without data lines is dropped, its event name with it.
    if (has_data_) {
      out.push_back(std::move(current_));
    }
    current_ = sse_event{};
    has_data_ = false;
    return;
  }
  if (line.front() == ':') {
    return;  // a comment, often a keep-alive ping
  }
  std::string_view field = line;
  std::string_view value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
  }
  if (field == "data") {
    if (has_data_) {
      current_.data += '\n';
    }
    current_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    current_.event.assign(value);
  }
  // "id", "retry" and unknown fields carry nothing our decoders read.
}

std::string sse_frame(std::string_view id, std::string_view data) {
  std::string frame;
  frame.reserve(id.size() + data.size() + 16);
  if (!id.empty()) {
    frame.append("id: ").append(id).append("\n");
  }
  append_data_lines(frame, data);
  frame += '\n';
  return frame;
}

void append_sse_frame(std::string& out, std::string_view id_prefix, std::uint64_t seq,
                      std::string_view data) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, seq);
  (void)ec;  // 24 digits hold any uint64
  out.append("id: ").append(id_prefix).append(":").append(digits, end).append("\n");
  append_data_lines(out, data);
  out += '\n';
}

std::string sse_named_frame(std::string_view id, std::string_view event, std::string_view data) {
  std::string frame;
  frame.reserve(id.size() + event.size() + data.size() + 32);
  if (!id.empty()) {
    frame.append("id: ").append(id).append("\n");
  }
  frame.append("event: ").append(event).append("\n");
  append_data_lines(frame, data);
  frame += '\n';
  return frame;
}

}  // namespace sb::net
