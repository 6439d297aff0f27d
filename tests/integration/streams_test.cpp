// SPEC section 7 over real sockets: cancellation in every phase of a
// request, the conversation log, reattach (one node and, with Redis, two),
// resume, back-pressure and the stream metrics.

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "cluster/billing_period.hpp"
#include "cluster/open_conversation_store.hpp"
#include "tests/integration/gateway_fixture.hpp"

using namespace sb::testing;
using nlohmann::json;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using headers_t = std::vector<std::pair<std::string, std::string>>;

namespace {

std::string words(int n, const std::string& stem = "w") {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? " " : "") + stem + std::to_string(i);
  return s;
}

std::vector<json> jsonl(const std::string& body) {
  std::vector<json> rows;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(json::parse(line));
  return rows;
}

/// The ledger's rows for this gateway, once `ready` holds (rows are written
/// behind the answer), or what there is after 3 s.
template <class Ready>
std::vector<json> usage_rows(running_gateway& gw, Ready ready, const headers_t& auth = {}) {
  std::vector<json> rows;
  for (auto end = clock_type::now() + 3s; clock_type::now() < end; std::this_thread::sleep_for(20ms)) {
    auto r = http_request(gw.port(), "GET", "/v1/usage/events?period=" + sb::cluster::current_period(), {}, auth);
    REQUIRE(r.status == 200);
    rows = jsonl(r.body);
    if (ready(rows)) break;
  }
  return rows;
}

/// A series' value in the /metrics text (0 when absent).
double metric(running_gateway& gw, const std::string& series) {
  auto r = http_request(gw.port(), "GET", "/metrics");
  std::istringstream in(r.body);
  for (std::string line; std::getline(in, line);)
    if (line.compare(0, series.size() + 1, series + " ") == 0) return std::stod(line.substr(series.size() + 1));
  return 0;
}

json stream_request(const std::string& text = "Hello there") {
  auto b = user_message("openai/gpt-4o-mini", text);
  b["stream"] = true;
  return b;
}

/// One SSE event as the test reads it.
struct sse_event {
  std::string id;
  std::string event;
  std::string data;
};

/// Reads SSE events from a chunked stream, chunk by chunk.
struct sse_reader {
  http_connection& c;
  std::string buf;
  bool ended = false;
  /// The next event; nullopt at the end of the body.
  std::optional<sse_event> next(std::chrono::milliseconds timeout = 5s) {
    for (;;) {
      auto end = buf.find("\n\n");
      if (end != std::string::npos) {
        sse_event e;
        std::istringstream in(buf.substr(0, end));
        buf.erase(0, end + 2);
        for (std::string line; std::getline(in, line);) {
          if (line.rfind("id: ", 0) == 0) e.id = line.substr(4);
          else if (line.rfind("event: ", 0) == 0) e.event = line.substr(7);
          else if (line.rfind("data: ", 0) == 0) e.data += line.substr(6);
        }
        return e;
      }
      if (ended) return std::nullopt;
      auto piece = c.read_chunk(timeout);
      if (piece.empty()) ended = true;
      buf += piece;
    }
  }
};

std::string delta_of(const std::string& data) {
  if (data == "[DONE]") return {};
  auto j = json::parse(data);
  std::string t;
  for (auto& ch : j.value("choices", json::array()))
    if (ch.contains("delta") && ch["delta"].contains("content") && ch["delta"]["content"].is_string())
      t += ch["delta"]["content"].get<std::string>();
  return t;
}

std::uint64_t seq_of(const std::string& id) { return std::stoull(id.substr(id.rfind(':') + 1)); }

json conversation(running_gateway& gw, const std::string& id, const headers_t& auth = {}) {
  auto r = http_request(gw.port(), "GET", "/v1/conversations/" + id, {}, auth);
  REQUIRE(r.status == 200);
  return json::parse(r.body);
}

/// Polls the conversation until its last message has `status`.
json conversation_when(running_gateway& gw, const std::string& id, const std::string& status,
                       const headers_t& auth = {}) {
  json c;
  for (auto end = clock_type::now() + 3s; clock_type::now() < end; std::this_thread::sleep_for(20ms)) {
    c = conversation(gw, id, auth);
    if (!c["messages"].empty() && c["messages"].back()["status"] == status) break;
  }
  return c;
}

std::string unique(const std::string& stem) {
  static std::mt19937_64 rng{std::random_device{}()};
  return stem + "-" + std::to_string(rng());
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

// --- cancellation: every phase ----------------------------------------------

TEST_CASE("a client leaving mid-stream closes the upstream within 100 ms and meters cancelled",
          "[streams][cancel]") {
  sb::fakes::fake_options fo;
  fo.text = words(20);
  fo.chunks = 20;
  fo.chunk_delay = 50ms;
  sb::fakes::fake_provider fake(fo);
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}));
  auto cancels_before = metric(gw, "switchboard_upstream_cancellations_total");

  {
    http_connection c(gw.port());
    c.send_request("POST", "/v1/chat/completions", stream_request().dump());
    REQUIRE(c.read_head().status == 200);
    sse_reader rd{c};
    for (int i = 0; i < 3; ++i) REQUIRE(rd.next());
    auto left = clock_type::now();
    c.close();
    auto closed = fake.wait_for_close_after(left, 2s);
    REQUIRE(closed);
    CHECK(*closed - left < 100ms);
  }
  std::this_thread::sleep_for(200ms);
  CHECK(fake.request_count() == 1);  // no further attempt
  auto rows = usage_rows(gw, [](auto& r) { return !r.empty(); });
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == "cancelled");
  CHECK(rows[0]["completion_tokens"].get<int>() > 0);  // the tokens so far (estimated)
  CHECK(metric(gw, "switchboard_upstream_cancellations_total") == cancels_before + 1);
}

TEST_CASE("a client leaving before the first token closes the upstream within 100 ms", "[streams][cancel]") {
  sb::fakes::fake_provider fake;
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}));
  sb::fakes::scripted_reply hang;
  hang.hang = true;
  fake.script(hang);

  http_connection c(gw.port());
  c.send_request("POST", "/v1/chat/completions", stream_request().dump());
  REQUIRE(fake.wait_for_requests(1, 2s));
  std::this_thread::sleep_for(30ms);
  auto left = clock_type::now();
  c.close();
  auto closed = fake.wait_for_close_after(left, 2s);
  REQUIRE(closed);
  CHECK(*closed - left < 100ms);
  std::this_thread::sleep_for(200ms);
  CHECK(fake.request_count() == 1);
  auto rows = usage_rows(gw, [](auto& r) { return !r.empty(); });
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == "cancelled");
  CHECK(rows[0]["completion_tokens"] == 0);
}

TEST_CASE("a client leaving during a retry backoff starts no further attempt", "[streams][cancel]") {
  sb::fakes::fake_provider fake;
  // Backoff 400..800 ms after the first 500.
  running_gateway gw(fast_config({{"retry", {{"backoff_base_ms", 800}, {"backoff_max_ms", 800}}}}),
                     fake_env(fake.base_url(), {"openai"}));
  fake.script(sb::fakes::error_reply(sb::fakes::wire_format::openai, 500));

  http_connection c(gw.port());
  c.send_request("POST", "/v1/chat/completions", stream_request().dump());
  REQUIRE(fake.wait_for_requests(1, 2s));
  // The 500 is in; the session waits out its backoff.
  auto rows = usage_rows(gw, [](auto& r) { return !r.empty(); });
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == "error");
  c.close();
  std::this_thread::sleep_for(1200ms);  // past the longest backoff
  CHECK(fake.request_count() == 1);
  rows = usage_rows(gw, [](auto&) { return true; });
  CHECK(rows.size() == 1);  // no attempt, so no other row
}

TEST_CASE("a client leaving a non-streamed call closes the upstream within 100 ms", "[streams][cancel]") {
  sb::fakes::fake_provider fake;
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}));
  sb::fakes::scripted_reply slow;
  slow.head_delay = 3s;
  fake.script(slow);

  http_connection c(gw.port());
  c.send_request("POST", "/v1/chat/completions", user_message("openai/gpt-4o-mini").dump());
  REQUIRE(fake.wait_for_requests(1, 2s));
  std::this_thread::sleep_for(30ms);
  auto left = clock_type::now();
  c.close();
  auto closed = fake.wait_for_close_after(left, 2s);
  REQUIRE(closed);
  CHECK(*closed - left < 100ms);
  std::this_thread::sleep_for(200ms);
  CHECK(fake.request_count() == 1);
  auto rows = usage_rows(gw, [](auto& r) { return !r.empty(); });
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == "cancelled");
}

// --- the conversation log -----------------------------------------------------

TEST_CASE("X-Conversation-Id logs the last user message and the streamed reply", "[streams][conversation]") {
  sb::fakes::fake_options fo;
  fo.text = words(6);
  fo.chunks = 6;
  sb::fakes::fake_provider fake(fo);
  auto cfg = fast_config({{"workspaces",
                           {{{"id", "acme"}, {"api_key_sha256", {sha256_of("acme-token")}}},
                            {{"id", "globex"}, {"api_key_sha256", {sha256_of("globex-token")}}}}}});
  running_gateway gw(cfg, fake_env(fake.base_url(), {"openai"}));
  headers_t acme{{"Authorization", "Bearer acme-token"}};
  headers_t globex{{"Authorization", "Bearer globex-token"}};

  auto body = stream_request("the question");
  body["messages"] = json::array({{{"role", "user"}, {"content", "an earlier one"}},
                                  {{"role", "assistant"}, {"content", "an earlier answer"}},
                                  {{"role", "user"}, {"content", "the question"}}});
  auto with_conv = acme;
  with_conv.emplace_back("X-Conversation-Id", "conv-1");
  auto r = gw.chat(body, with_conv);
  REQUIRE(r.status == 200);
  auto message_id = r.header("x-gateway-message-id");
  REQUIRE(!message_id.empty());
  // Every event id is <message_id>:<seq>, seq 1, 2, 3, … without a hole.
  std::uint64_t expect = 1;
  for (std::size_t pos = 0; (pos = r.body.find("id: ", pos)) != std::string::npos; ++expect) {
    auto end = r.body.find('\n', pos);
    CHECK(r.body.substr(pos + 4, end - pos - 4) == message_id + ":" + std::to_string(expect));
    pos = end;
  }
  CHECK(expect > 6);

  auto c = conversation_when(gw, "conv-1", "complete", acme);
  CHECK(c["id"] == "conv-1");
  REQUIRE(c["messages"].size() == 2);
  CHECK(c["messages"][0]["role"] == "user");
  CHECK(c["messages"][0]["content"] == "the question");
  CHECK(c["messages"][0]["status"] == "complete");
  CHECK(c["messages"][1]["id"] == message_id);
  CHECK(c["messages"][1]["role"] == "assistant");
  CHECK(c["messages"][1]["content"] == words(6));
  CHECK(c["messages"][1]["status"] == "complete");
  CHECK(c["messages"][1]["provider"] == "openai");
  CHECK(c["messages"][1]["model"] == "gpt-4o-mini");

  // A non-streamed exchange appends to the same conversation.
  auto whole = user_message("openai/gpt-4o-mini", "and another");
  REQUIRE(gw.chat(whole, with_conv).status == 200);
  c = conversation_when(gw, "conv-1", "complete", acme);
  for (auto end = clock_type::now() + 2s; c["messages"].size() < 4 && clock_type::now() < end;
       std::this_thread::sleep_for(20ms))
    c = conversation(gw, "conv-1", acme);
  REQUIRE(c["messages"].size() == 4);
  CHECK(c["messages"][2]["content"] == "and another");
  CHECK(c["messages"][3]["content"] == words(6));
  CHECK(c["messages"][3]["status"] == "complete");

  // Unknown, and another workspace's: both 404.
  CHECK(http_request(gw.port(), "GET", "/v1/conversations/nope", {}, acme).status == 404);
  CHECK(http_request(gw.port(), "GET", "/v1/conversations/conv-1", {}, globex).status == 404);
  CHECK(http_request(gw.port(), "GET", "/v1/conversations/conv-1").status == 401);
}

TEST_CASE("a streaming reply is persisted while it streams and left partial when the client leaves",
          "[streams][conversation]") {
  sb::fakes::fake_options fo;
  fo.text = words(20);
  fo.chunks = 20;
  fo.chunk_delay = 40ms;
  sb::fakes::fake_provider fake(fo);
  running_gateway gw(fast_config({{"streams", {{"persist_every_ms", 50}}}}), fake_env(fake.base_url(), {"openai"}));
  auto store = sb::cluster::open_conversation_store(gw.db_dir + "/switchboard.db");
  REQUIRE(store);

  http_connection c(gw.port());
  c.send_request("POST", "/v1/chat/completions", stream_request().dump(), {{"X-Conversation-Id", "conv-p"}});
  auto head = c.read_head();
  REQUIRE(head.status == 200);
  auto message_id = head.header("x-gateway-message-id");
  sse_reader rd{c};
  std::string received;
  for (int i = 0; i < 8; ++i) received += delta_of(rd.next()->data);

  // In the database (not only in the actor's memory) while streaming.
  sb::cluster::message_key key{"default", "conv-p", message_id};
  std::string stored;
  for (auto end = clock_type::now() + 2s; clock_type::now() < end; std::this_thread::sleep_for(10ms)) {
    auto m = store.value()->get_message(key);
    REQUIRE(m);
    if (m.value() && !m.value()->content.empty()) {
      CHECK(m.value()->status == sb::cluster::message_status::in_progress);
      stored = m.value()->content;
      break;
    }
  }
  CHECK(!stored.empty());
  CHECK(words(20).rfind(stored, 0) == 0);

  c.close();
  auto conv = conversation_when(gw, "conv-p", "partial");
  REQUIRE(conv["messages"].size() == 2);
  auto text = conv["messages"][1]["content"].get<std::string>();
  CHECK(conv["messages"][1]["status"] == "partial");
  CHECK(text.rfind(received, 0) == 0);      // at least what the client got
  CHECK(words(20).rfind(text, 0) == 0);     // a prefix of the reply
  CHECK(text.size() < words(20).size());
  auto m = store.value()->get_message(key);
  REQUIRE(m);
  REQUIRE(m.value());
  CHECK(m.value()->status == sb::cluster::message_status::partial);
  CHECK(m.value()->content == text);
}

// --- reattach ---------------------------------------------------------------

namespace {

/// Reads a stream to its end: the events, then whether it ended with [DONE].
struct read_result {
  std::vector<sse_event> events;
  std::string text;
  bool done = false;
};

read_result read_to_end(sse_reader& rd) {
  read_result out;
  while (auto e = rd.next()) {
    if (e->data == "[DONE]") {
      out.done = true;
      continue;
    }
    if (!e->event.empty()) {
      out.events.push_back(*e);
      continue;
    }
    out.text += delta_of(e->data);
    out.events.push_back(*e);
  }
  return out;
}

/// Leaves a logged stream after `events` events: its text, last id, message id.
struct left_stream {
  std::string text;
  std::string last_id;
  std::string message_id;
};

left_stream leave_after(std::uint16_t port, const std::string& conv, int events, const headers_t& extra = {}) {
  http_connection c(port);
  headers_t h = extra;
  h.emplace_back("X-Conversation-Id", conv);
  c.send_request("POST", "/v1/chat/completions", stream_request().dump(), h);
  auto head = c.read_head();
  REQUIRE(head.status == 200);
  left_stream out;
  out.message_id = head.header("x-gateway-message-id");
  sse_reader rd{c};
  for (int i = 0; i < events; ++i) {
    auto e = rd.next();
    REQUIRE(e);
    out.text += delta_of(e->data);
    out.last_id = e->id;
  }
  return out;
}

void check_contiguous(const std::string& last_id, const std::vector<sse_event>& events) {
  auto expect = seq_of(last_id) + 1;
  for (auto& e : events) {
    if (e.id.empty()) continue;
    CHECK(seq_of(e.id) == expect);
    ++expect;
  }
}

}  // namespace

TEST_CASE("a reattach with Last-Event-ID gets what it missed then the live rest within the grace",
          "[streams][reattach]") {
  sb::fakes::fake_options fo;
  fo.text = words(20);
  fo.chunks = 20;
  fo.chunk_delay = 30ms;
  sb::fakes::fake_provider fake(fo);
  running_gateway gw(fast_config({{"streams", {{"resume_grace_ms", 3000}}}}), fake_env(fake.base_url(), {"openai"}));

  auto left = leave_after(gw.port(), "conv-r", 4);
  std::this_thread::sleep_for(150ms);  // some events happen while nobody is attached
  CHECK(fake.request_count() == 1);

  http_connection c(gw.port());
  c.send_request("GET", "/v1/conversations/conv-r/messages/" + left.message_id + "/stream", {},
                 {{"Last-Event-ID", left.last_id}});
  auto head = c.read_head();
  REQUIRE(head.status == 200);
  CHECK(head.header("content-type") == "text/event-stream");
  sse_reader rd{c};
  auto rest = read_to_end(rd);
  CHECK(rest.done);
  CHECK(left.text + rest.text == words(20));  // no gap, no duplicate
  check_contiguous(left.last_id, rest.events);

  // The upstream was kept: the reply completed, metered ok.
  auto conv = conversation_when(gw, "conv-r", "complete");
  CHECK(conv["messages"][1]["content"] == words(20));
  auto rows = usage_rows(gw, [](auto& r) { return !r.empty(); });
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == "ok");

  // A finished stream replays from the start for a while, too.
  http_connection again(gw.port());
  again.send_request("GET", "/v1/conversations/conv-r/messages/" + left.message_id + "/stream", {}, {});
  REQUIRE(again.read_head().status == 200);
  sse_reader rd2{again};
  auto all = read_to_end(rd2);
  CHECK(all.done);
  CHECK(all.text == words(20));

  // Bad ids and foreign messages.
  CHECK(http_request(gw.port(), "GET", "/v1/conversations/conv-r/messages/" + left.message_id + "/stream", {},
                     {{"Last-Event-ID", "other:3"}})
            .status == 400);
  CHECK(http_request(gw.port(), "GET", "/v1/conversations/conv-x/messages/" + left.message_id + "/stream")
            .status == 404);
}

TEST_CASE("the upstream of a left stream lives only for the grace then is cancelled", "[streams][reattach]") {
  sb::fakes::fake_options fo;
  fo.text = words(40);
  fo.chunks = 40;
  fo.chunk_delay = 50ms;
  sb::fakes::fake_provider fake(fo);
  running_gateway gw(fast_config({{"streams", {{"resume_grace_ms", 300}}}}), fake_env(fake.base_url(), {"openai"}));

  auto t0 = clock_type::now();
  {
    http_connection c(gw.port());
    c.send_request("POST", "/v1/chat/completions", stream_request().dump(), {{"X-Conversation-Id", "conv-g"}});
    REQUIRE(c.read_head().status == 200);
    sse_reader rd{c};
    REQUIRE(rd.next());
    t0 = clock_type::now();
  }
  auto closed = fake.wait_for_close_after(t0, 3s);
  REQUIRE(closed);
  CHECK(*closed - t0 >= 250ms);
  CHECK(*closed - t0 < 500ms);
  auto conv = conversation_when(gw, "conv-g", "partial");
  CHECK(conv["messages"][1]["status"] == "partial");
  auto rows = usage_rows(gw, [](auto& r) { return !r.empty(); });
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == "cancelled");
}

TEST_CASE("without a grace a reattach gets the journaled rest and the end of a partial stream",
          "[streams][reattach]") {
  sb::fakes::fake_options fo;
  fo.text = words(20);
  fo.chunks = 20;
  fo.chunk_delay = 40ms;
  sb::fakes::fake_provider fake(fo);
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}));

  auto left = leave_after(gw.port(), "conv-z", 3);
  conversation_when(gw, "conv-z", "partial");
  http_connection c(gw.port());
  c.send_request("GET", "/v1/conversations/conv-z/messages/" + left.message_id + "/stream", {},
                 {{"Last-Event-ID", left.last_id}});
  REQUIRE(c.read_head().status == 200);
  sse_reader rd{c};
  auto rest = read_to_end(rd);
  CHECK_FALSE(rest.done);
  REQUIRE(!rest.events.empty());
  CHECK(rest.events.back().event == "error");
  CHECK(rest.events.back().data.find("stream_incomplete") != std::string::npos);
  auto conv = conversation(gw, "conv-z");
  CHECK(conv["messages"][1]["content"] == left.text + rest.text);
}

TEST_CASE("a reattach on another node follows the stream through Redis", "[streams][reattach][cluster]") {
  const auto redis_url = env_or_empty("SB_TEST_REDIS_URL");
  const auto pg_url = env_or_empty("SB_TEST_DATABASE_URL");
  if (redis_url.empty() || pg_url.empty()) {
    WARN("SB_TEST_REDIS_URL or SB_TEST_DATABASE_URL is not set: the two-node reattach test needs both "
         "(tests/services.sh); SKIPPED");
    return;
  }
  sb::fakes::fake_options fo;
  fo.text = words(20);
  fo.chunks = 20;
  fo.chunk_delay = 30ms;
  sb::fakes::fake_provider fake(fo);
  const auto ws = unique("ws");
  const auto token = "token-" + ws;
  auto cfg = fast_config({{"streams", {{"resume_grace_ms", 3000}}},
                          {"workspaces", {{{"id", ws}, {"api_key_sha256", {sha256_of(token)}}}}}});
  auto env = fake_env(fake.base_url(), {"openai"}, {{"REDIS_URL", redis_url}, {"DATABASE_URL", pg_url}});
  running_gateway a(cfg, env);
  running_gateway b(cfg, env);
  headers_t auth{{"Authorization", "Bearer " + token}};
  const auto conv = unique("conv");

  auto left = leave_after(a.port(), conv, 4, auth);
  std::this_thread::sleep_for(120ms);
  http_connection c(b.port());
  auto h = auth;
  h.emplace_back("Last-Event-ID", left.last_id);
  c.send_request("GET", "/v1/conversations/" + conv + "/messages/" + left.message_id + "/stream", {}, h);
  auto head = c.read_head();
  REQUIRE(head.status == 200);
  sse_reader rd{c};
  auto rest = read_to_end(rd);
  CHECK(rest.done);
  CHECK(left.text + rest.text == words(20));
  check_contiguous(left.last_id, rest.events);
  auto cv = conversation_when(b, conv, "complete", auth);
  CHECK(cv["messages"][1]["content"] == words(20));
}

// --- resume -------------------------------------------------------------------

TEST_CASE("resume continues a partial message to one complete message", "[streams][resume]") {
  sb::fakes::fake_options fo;
  fo.text = words(20);
  fo.chunks = 20;
  fo.chunk_delay = 30ms;
  sb::fakes::fake_provider fake(fo);
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai", "anthropic"}));

  auto left = leave_after(gw.port(), "conv-res", 5);
  auto conv = conversation_when(gw, "conv-res", "partial");
  auto partial = conv["messages"][1]["content"].get<std::string>();
  REQUIRE(!partial.empty());

  sb::fakes::scripted_reply rest;
  rest.text = " and the rest";
  rest.chunks = 3;
  rest.chunk_delay = 0ms;
  fake.reset();
  fake.script(rest);
  http_connection c(gw.port());
  c.send_request("POST", "/v1/conversations/conv-res/messages/" + left.message_id + "/resume", "{}");
  auto head = c.read_head();
  REQUIRE(head.status == 200);
  sse_reader rd{c};
  auto first = rd.next();
  REQUIRE(first);
  CHECK(delta_of(first->data) == partial);  // the stored text, replayed
  CHECK(seq_of(first->id) > seq_of(left.last_id));
  auto more = read_to_end(rd);
  CHECK(more.done);
  CHECK(partial + more.text == partial + " and the rest");

  conv = conversation_when(gw, "conv-res", "complete");
  REQUIRE(conv["messages"].size() == 2);
  CHECK(conv["messages"][1]["id"] == left.message_id);
  CHECK(conv["messages"][1]["content"] == partial + " and the rest");
  CHECK(conv["messages"][1]["status"] == "complete");

  // OpenAI format: the partial reply, then an explicit instruction to continue.
  auto received = fake.received();
  REQUIRE(received.size() == 1);
  auto sent = json::parse(received[0].body)["messages"];
  REQUIRE(sent.size() == 3);
  CHECK(sent[0]["content"] == "Hello there");
  CHECK(sent[1]["role"] == "assistant");
  CHECK(sent[1]["content"] == partial);
  CHECK(sent[2]["role"] == "user");
  CHECK(sent[2]["content"].get<std::string>().find("Continue") != std::string::npos);

  // Complete now: no second resume.
  CHECK(http_request(gw.port(), "POST", "/v1/conversations/conv-res/messages/" + left.message_id + "/resume", "{}")
            .status == 409);
  CHECK(http_request(gw.port(), "POST", "/v1/conversations/conv-res/messages/msg_nope/resume", "{}").status == 404);
}

TEST_CASE("resume through Anthropic sends the partial text as an assistant prefill", "[streams][resume]") {
  sb::fakes::fake_options fo;
  fo.text = words(20);
  fo.chunks = 20;
  fo.chunk_delay = 30ms;
  sb::fakes::fake_provider fake(fo);
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai", "anthropic"},
                                             {{"LLM_MODEL_ANTHROPIC", "claude-3-5-haiku-latest"}}));
  auto left = leave_after(gw.port(), "conv-pre", 4);
  auto partial = conversation_when(gw, "conv-pre", "partial")["messages"][1]["content"].get<std::string>();
  fake.reset();
  sb::fakes::scripted_reply rest;
  rest.text = " to the end";
  rest.chunks = 3;
  rest.chunk_delay = 0ms;
  fake.script(rest);

  http_connection c(gw.port());
  c.send_request("POST", "/v1/conversations/conv-pre/messages/" + left.message_id + "/resume",
                 json{{"model", "anthropic/claude-3-5-haiku-latest"}}.dump());
  REQUIRE(c.read_head().status == 200);
  sse_reader rd{c};
  auto all = read_to_end(rd);
  CHECK(all.done);
  CHECK(all.text == partial + " to the end");
  auto received = fake.received();
  REQUIRE(received.size() == 1);
  CHECK(received[0].target == "/v1/messages");
  auto sent = json::parse(received[0].body)["messages"];
  REQUIRE(sent.size() == 2);
  CHECK(sent[1]["role"] == "assistant");
  auto prefill = sent[1]["content"].is_string() ? sent[1]["content"].get<std::string>()
                                                : sent[1]["content"][0]["text"].get<std::string>();
  CHECK(prefill == partial.substr(0, partial.find_last_not_of(' ') + 1));
  auto conv = conversation_when(gw, "conv-pre", "complete");
  CHECK(conv["messages"][1]["content"] == partial + " to the end");
  CHECK(conv["messages"][1]["provider"] == "anthropic");
}

// --- back-pressure and metrics -----------------------------------------------------

TEST_CASE("a client that stops reading is cut at the bound and counted", "[streams][backpressure]") {
  sb::fakes::fake_options fo;
  // ~12 MB of text in 2000 chunks, sent as fast as the gateway takes it:
  // more than the kernel's socket buffers hold (up to ~4 MB on loopback).
  for (int i = 0; i < 2000; ++i) fo.text += (i ? " " : "") + std::string(6000, static_cast<char>('a' + i % 26));
  fo.chunks = 2000;
  sb::fakes::fake_provider fake(fo);
  sb::gateway_options opts;
  opts.max_stream_backlog_bytes = 256u << 10;
  opts.write_stall_timeout = 500ms;
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}), opts);

  // A reader with a small receive window that sends its request and stops
  // reading: the kernel buffers hold little, the rest would pile up in the
  // gateway without the bound.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int small = 16 << 10;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(gw.port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  auto body = stream_request().dump();
  std::string req = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));

  for (auto end = clock_type::now() + 5s;
       metric(gw, "switchboard_slow_client_drops_total") < 1 && clock_type::now() < end;)
    std::this_thread::sleep_for(20ms);
  CHECK(metric(gw, "switchboard_slow_client_drops_total") == 1);
  auto rows = usage_rows(gw, [](auto& r) { return !r.empty(); });
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == "cancelled");
  CHECK(fake.request_count() == 1);

  // Nothing more was queued: what the client finds when it reads at last is
  // what sat in the buffers (kernel + the bound), then the error and the end
  // of the body, far short of the whole answer. (A reader that never reads
  // is dropped by the write-stall timeout: tests/net/http_server_test.cpp.)
  std::string got;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) break;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
    if (got.size() >= 5 && got.compare(got.size() - 5, 5, "0\r\n\r\n") == 0) break;
  }
  ::close(fd);
  CHECK(got.find("client_too_slow") != std::string::npos);
  CHECK(got.find("[DONE]") == std::string::npos);
  CHECK(got.size() < fo.text.size() / 2);
}

TEST_CASE("active streams time to first token and cancellations are exported", "[streams][metrics]") {
  sb::fakes::fake_options fo;
  fo.text = words(10);
  fo.chunks = 10;
  fo.chunk_delay = 40ms;
  sb::fakes::fake_provider fake(fo);
  running_gateway gw(fast_config(), fake_env(fake.base_url(), {"openai"}));
  CHECK(metric(gw, "switchboard_active_streams") == 0);
  auto ttft_before = metric(gw, "switchboard_time_to_first_token_seconds_count{provider=\"openai\"}");

  {
    http_connection c(gw.port());
    c.send_request("POST", "/v1/chat/completions", stream_request().dump());
    REQUIRE(c.read_head().status == 200);
    sse_reader rd{c};
    REQUIRE(rd.next());
    CHECK(metric(gw, "switchboard_active_streams") == 1);
    read_to_end(rd);
  }
  for (auto end = clock_type::now() + 2s; metric(gw, "switchboard_active_streams") != 0 && clock_type::now() < end;)
    std::this_thread::sleep_for(10ms);
  CHECK(metric(gw, "switchboard_active_streams") == 0);
  CHECK(metric(gw, "switchboard_time_to_first_token_seconds_count{provider=\"openai\"}") == ttft_before + 1);

  auto cancels = metric(gw, "switchboard_upstream_cancellations_total");
  {
    http_connection c(gw.port());
    c.send_request("POST", "/v1/chat/completions", stream_request().dump());
    REQUIRE(c.read_head().status == 200);
    sse_reader rd{c};
    REQUIRE(rd.next());
  }
  for (auto end = clock_type::now() + 2s;
       metric(gw, "switchboard_upstream_cancellations_total") < cancels + 1 && clock_type::now() < end;)
    std::this_thread::sleep_for(10ms);
  CHECK(metric(gw, "switchboard_upstream_cancellations_total") == cancels + 1);
  CHECK(metric(gw, "switchboard_active_streams") == 0);
}
