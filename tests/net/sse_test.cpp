#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "net/sse.hpp"

using sb::sse_event;
using sb::net::sse_frame;
using sb::net::sse_named_frame;
using sb::net::sse_parser;

namespace {

std::vector<sse_event> parse_whole(std::string_view bytes) {
  sse_parser parser;
  std::vector<sse_event> out;
  parser.feed(bytes, out);
  return out;
}

std::vector<sse_event> parse_byte_by_byte(std::string_view bytes) {
  sse_parser parser;
  std::vector<sse_event> out;
  for (char c : bytes) {
    parser.feed(std::string_view(&c, 1), out);
  }
  return out;
}

// Every way of cutting the stream in two must give the same events.
void require_same_for_every_split(std::string_view bytes, const std::vector<sse_event>& expected) {
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    sse_parser parser;
    std::vector<sse_event> out;
    parser.feed(bytes.substr(0, cut), out);
    parser.feed(bytes.substr(cut), out);
    INFO("cut at " << cut);
    REQUIRE(out.size() == expected.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      CHECK(out[i].event == expected[i].event);
      CHECK(out[i].data == expected[i].data);
    }
  }
}

}  // namespace

TEST_CASE("sse: data lines become one event at the blank line", "[sse]") {
  auto events = parse_whole("data: {\"a\":1}\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].event.empty());
  CHECK(events[0].data == "{\"a\":1}");
}

TEST_CASE("sse: nothing is dispatched before the blank line", "[sse]") {
  sse_parser parser;
  std::vector<sse_event> out;
  parser.feed("event: delta\ndata: x\n", out);
  CHECK(out.empty());
  parser.feed("\n", out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].event == "delta");
  CHECK(out[0].data == "x");
}

TEST_CASE("sse: multi-line data is joined with LF", "[sse]") {
  auto events = parse_whole("data: one\ndata: two\ndata:three\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "one\ntwo\nthree");
}

TEST_CASE("sse: CRLF - LF and CR all end lines - even mixed", "[sse]") {
  std::vector<sse_event> expected{{"a", "1"}, {"", "2\n3"}, {"c", "4"}};
  std::string crlf = "event: a\r\ndata: 1\r\n\r\ndata: 2\r\ndata: 3\r\n\r\nevent: c\r\ndata: 4\r\n\r\n";
  std::string cr = "event: a\rdata: 1\r\rdata: 2\rdata: 3\r\revent: c\rdata: 4\r\r";
  std::string mixed = "event: a\r\ndata: 1\n\rdata: 2\rdata: 3\n\r\nevent: c\ndata: 4\r\r";
  for (const auto& stream : {crlf, cr, mixed}) {
    INFO(stream);
    auto events = parse_whole(stream);
    REQUIRE(events.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(events[i].event == expected[i].event);
      CHECK(events[i].data == expected[i].data);
    }
  }
}

TEST_CASE("sse: byte-by-byte feeding gives the same events", "[sse]") {
  std::string stream =
      ": ping\r\n\r\nevent: message_start\r\ndata: {\"type\":\"message_start\"}\r\n\r\n"
      "data: a\rdata: b\r\r"
      "data: [DONE]\n\n";
  auto whole = parse_whole(stream);
  auto bytes = parse_byte_by_byte(stream);
  REQUIRE(whole.size() == 3);
  REQUIRE(bytes.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(bytes[i].event == whole[i].event);
    CHECK(bytes[i].data == whole[i].data);
  }
  CHECK(whole[0].event == "message_start");
  CHECK(whole[1].data == "a\nb");
  CHECK(whole[2].data == "[DONE]");
}

TEST_CASE("sse: any two-way split gives the same events", "[sse]") {
  require_same_for_every_split("event: x\r\ndata: 1\r\ndata: 2\r\n\r\n: c\r\ndata:3\r\r",
                               {{"x", "1\n2"}, {"", "3"}});
}

TEST_CASE("sse: a CRLF split between two feeds ends only one line", "[sse]") {
  sse_parser parser;
  std::vector<sse_event> out;
  parser.feed("data: a\r", out);
  parser.feed("\ndata: b\r", out);
  parser.feed("\n\r", out);
  parser.feed("\n", out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].data == "a\nb");
}

TEST_CASE("sse: comments are ignored and dispatch nothing", "[sse]") {
  auto events = parse_whole(": keep-alive\n\n:another\ndata: x\n: inside\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "x");
}

TEST_CASE("sse: an event without data lines is dropped - name and all", "[sse]") {
  auto events = parse_whole("event: ping\n\ndata: after\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].event.empty());
  CHECK(events[0].data == "after");
}

TEST_CASE("sse: only one leading space after the colon is stripped", "[sse]") {
  auto events = parse_whole("data:  two spaces\ndata:none\ndata: \n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == " two spaces\nnone\n");
}

TEST_CASE("sse: 'data' without a colon is an empty data line", "[sse]") {
  auto events = parse_whole("data\n\ndata\ndata\n\n");
  REQUIRE(events.size() == 2);
  CHECK(events[0].data.empty());
  CHECK(events[1].data == "\n");
}

TEST_CASE("sse: id - retry and unknown fields do not disturb the event", "[sse]") {
  auto events = parse_whole("id: 7\nretry: 100\nfoo: bar\nevent: e\ndata: d\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].event == "e");
  CHECK(events[0].data == "d");
}

TEST_CASE("sse: values may contain colons", "[sse]") {
  auto events = parse_whole("data: {\"a\":\"b:c\"}\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "{\"a\":\"b:c\"}");
}

TEST_CASE("sse: a leading UTF-8 BOM is skipped", "[sse]") {
  auto events = parse_byte_by_byte("\xEF\xBB\xBF" "data: x\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "x");
}

TEST_CASE("sse: an unterminated last event is not dispatched", "[sse]") {
  auto events = parse_whole("data: complete\n\ndata: cut short\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "complete");
}

TEST_CASE("sse: sse_frame writes id and data", "[sse]") {
  CHECK(sse_frame("m1:0", "{\"x\":1}") == "id: m1:0\ndata: {\"x\":1}\n\n");
  CHECK(sse_frame("", "[DONE]") == "data: [DONE]\n\n");
}

TEST_CASE("sse: sse_frame splits multi-line data into data lines", "[sse]") {
  CHECK(sse_frame("", "a\nb\r\nc\rd") == "data: a\ndata: b\ndata: c\ndata: d\n\n");
  CHECK(sse_frame("", "") == "data: \n\n");
}

TEST_CASE("sse: sse_named_frame writes id - event and data", "[sse]") {
  CHECK(sse_named_frame("m1:9", "error", "{\"error\":{}}") ==
        "id: m1:9\nevent: error\ndata: {\"error\":{}}\n\n");
  CHECK(sse_named_frame("", "error", "x") == "event: error\ndata: x\n\n");
}

TEST_CASE("sse: what we frame - the parser reads back", "[sse]") {
  std::string stream = sse_frame("a:1", "line one\nline two") + sse_named_frame("a:2", "error", "boom");
  auto events = parse_byte_by_byte(stream);
  REQUIRE(events.size() == 2);
  CHECK(events[0].event.empty());
  CHECK(events[0].data == "line one\nline two");
  CHECK(events[1].event == "error");
  CHECK(events[1].data == "boom");
}

TEST_CASE("append_sse_frame writes the same frame as sse_frame with id prefix:seq", "[sse]") {
  std::string out = "before\n";
  sb::net::append_sse_frame(out, "msg_abc", 42, "line one\nline two");
  CHECK(out == "before\n" + sb::net::sse_frame("msg_abc:42", "line one\nline two"));
  CHECK(out == "before\nid: msg_abc:42\ndata: line one\ndata: line two\n\n");
}
