// http_server against real loopback sockets and a small blocking client
// (POSIX sockets, so the client shares no code with the server).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "net/http_server.hpp"
#include "net/io_threads.hpp"

namespace {

using namespace std::chrono_literals;
using sb::net::http_request;
using sb::net::http_server;
using sb::net::http_server_options;
using sb::net::responder;
using steady = std::chrono::steady_clock;

// ---- the client ----------------------------------------------------------------

struct http_response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;

  [[nodiscard]] std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  [[nodiscard]] std::string error_code() const {
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.contains("error")) return "<not an error envelope>";
    return j["error"].value("code", "");
  }
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class blocking_client {
 public:
  explicit blocking_client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~blocking_client() { close(); }
  blocking_client(const blocking_client&) = delete;
  blocking_client& operator=(const blocking_client&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// One response (interim 100 Continue skipped); nullopt on EOF or timeout.
  std::optional<http_response> read_response(std::chrono::milliseconds timeout = 3s) {
    const auto deadline = steady::now() + timeout;
    std::size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (fill(deadline) != got::data) return std::nullopt;
    http_response r;
    const std::string head = buf_.substr(0, head_end);
    buf_.erase(0, head_end + 4);
    std::size_t line_end = head.find("\r\n");
    r.status = std::stoi(head.substr(9, 3));
    while (line_end != std::string::npos) {
      const auto start = line_end + 2;
      line_end = head.find("\r\n", start);
      const auto line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[lower(line.substr(0, colon))] = value;
    }
    if (r.status == 100) return read_response(timeout);
    if (lower(r.header("transfer-encoding")) == "chunked") {
      for (;;) {
        std::size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos)
          if (fill(deadline) != got::data) return std::nullopt;
        const auto size = std::stoul(buf_.substr(0, eol), nullptr, 16);
        while (buf_.size() < eol + 2 + size + 2)
          if (fill(deadline) != got::data) return std::nullopt;
        r.body += buf_.substr(eol + 2, size);
        buf_.erase(0, eol + 2 + size + 2);
        if (size == 0) return r;
      }
    }
    if (r.headers.count("content-length")) {
      const auto size = std::stoul(r.header("content-length"));
      while (buf_.size() < size)
        if (fill(deadline) != got::data) return std::nullopt;
      r.body = buf_.substr(0, size);
      buf_.erase(0, size);
      return r;
    }
    while (fill(deadline) == got::data) {
    }
    r.body = std::move(buf_);
    buf_.clear();
    return r;
  }

  /// Waits until `needle` is among the received bytes (raw, not consumed).
  bool wait_for_bytes(std::string_view needle, std::chrono::milliseconds timeout = 3s) {
    const auto deadline = steady::now() + timeout;
    while (buf_.find(needle) == std::string::npos)
      if (fill(deadline) != got::data) return false;
    return true;
  }

  /// Whether the server closed the connection (EOF or reset) within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout = 3s) {
    const auto deadline = steady::now() + timeout;
    for (;;) {
      switch (fill(deadline)) {
        case got::eof:
          return true;
        case got::timeout:
          return false;
        case got::data:
          buf_.clear();
      }
    }
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  enum class got { data, eof, timeout };

  got fill(steady::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) == 0) return got::timeout;
    char tmp[16384];
    const auto n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return got::eof;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return got::data;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

// ---- the server under test -----------------------------------------------------

struct running_server {
  running_server(http_server_options opts, sb::net::request_handler handler)
      : server(ioc, std::move(opts), std::move(handler)) {
    const auto [p, err] = server.listen();
    REQUIRE(err.empty());
    port = p;
    // One thread, as the server requires of a context (no strands); the
    // io_threads test below runs two contexts.
    threads.emplace_back([this] { ioc.run(); });
  }
  // Stops the io_context first: the server's destructor must cope with that.
  ~running_server() {
    work.reset();
    ioc.stop();
    for (auto& t : threads) t.join();
  }

  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work{ioc.get_executor()};
  http_server server;
  std::uint16_t port = 0;
  std::vector<std::thread> threads;
};

http_server_options test_options() {
  http_server_options o;
  o.port = 0;
  return o;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 2s) {
  const auto deadline = steady::now() + timeout;
  while (!pred()) {
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::string get(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n";
}

std::string post(const std::string& target, const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

/// Answers every request at once with "<method> <path>".
void echo_handler(http_request req, std::shared_ptr<responder> res) {
  res->respond(200, {{"Content-Type", "text/plain"}}, req.method + " " + req.path);
}

/// Hands each responder to the test thread, which answers when it likes.
struct parked_requests {
  std::mutex mu;
  std::vector<std::pair<http_request, std::shared_ptr<responder>>> items;

  sb::net::request_handler handler() {
    return [this](http_request req, std::shared_ptr<responder> res) {
      std::lock_guard lock(mu);
      items.emplace_back(std::move(req), std::move(res));
    };
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return items.size();
  }
  std::shared_ptr<responder> responder_at(std::size_t i) {
    std::lock_guard lock(mu);
    return items.at(i).second;
  }
};

}  // namespace

// ---- tests -----------------------------------------------------------------------

TEST_CASE("http_server answers two requests on one kept-alive connection", "[http_server]") {
  std::mutex mu;
  std::vector<http_request> seen;
  running_server s(test_options(), [&](http_request req, std::shared_ptr<responder> res) {
    const std::string reply = "got " + req.body;
    {
      std::lock_guard lock(mu);
      seen.push_back(std::move(req));
    }
    res->respond(201, {{"Content-Type", "text/plain"}, {"X-Test", "yes"}}, reply);
  });

  blocking_client c(s.port);
  REQUIRE(c.connected());
  REQUIRE(c.send("POST /v1/chat/completions?a=1&b=2 HTTP/1.1\r\nHost: test\r\nX-Mixed-Case: Value\r\n"
                 "Content-Length: 5\r\n\r\nhello"));
  auto first = c.read_response();
  REQUIRE(first);
  CHECK(first->status == 201);
  CHECK(first->body == "got hello");
  CHECK(first->header("content-length") == "9");
  CHECK(first->header("x-test") == "yes");
  CHECK(first->header("connection").empty());

  REQUIRE(c.send(post("/second", "again")));
  auto second = c.read_response();
  REQUIRE(second);
  CHECK(second->body == "got again");

  std::lock_guard lock(mu);
  REQUIRE(seen.size() == 2);
  const auto& r = seen[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/v1/chat/completions?a=1&b=2");
  CHECK(r.path == "/v1/chat/completions");
  CHECK(r.query == "a=1&b=2");
  CHECK(r.header("x-mixed-case") == std::optional<std::string_view>("Value"));
  CHECK(r.headers.at(0).first == "host");
  CHECK(r.body == "hello");
  CHECK(r.remote.rfind("127.0.0.1:", 0) == 0);
  CHECK(seen[1].path == "/second");
}

TEST_CASE("http_server answers pipelined requests in order - even when answers come late", "[http_server]") {
  running_server s(test_options(), [](http_request req, std::shared_ptr<responder> res) {
    // from another thread, after the connection went back to watching the socket
    std::thread([req = std::move(req), res] {
      std::this_thread::sleep_for(20ms);
      res->respond(200, {}, req.path);
    }).detach();
  });
  blocking_client c(s.port);
  REQUIRE(c.send(get("/one") + get("/two") + get("/three")));
  for (const char* path : {"/one", "/two", "/three"}) {
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->body == path);
  }
}

TEST_CASE("http_server answers 413 to a body over the limit and keeps serving", "[http_server]") {
  auto opts = test_options();
  opts.max_body_bytes = 1024;
  running_server s(opts, echo_handler);

  SECTION("Content-Length over the limit") {
    blocking_client c(s.port);
    REQUIRE(c.send(post("/big", std::string(4096, 'x'))));
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(r->error_code() == "request_too_large");
    CHECK(r->header("connection") == "close");
    CHECK(c.wait_closed());
  }
  SECTION("a chunked body that grows over the limit") {
    blocking_client c(s.port);
    const std::string chunk = "400\r\n" + std::string(1024, 'x') + "\r\n";
    REQUIRE(c.send("POST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk));
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(r->error_code() == "request_too_large");
  }
  blocking_client after(s.port);
  REQUIRE(after.send(post("/small", std::string(1024, 'y'))));
  auto r = after.read_response();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "POST /small");
}

TEST_CASE("http_server answers 431 to a header section over the limit", "[http_server]") {
  auto opts = test_options();
  opts.max_header_bytes = 1024;
  running_server s(opts, echo_handler);

  blocking_client c(s.port);
  REQUIRE(c.send(get("/", "X-Huge: " + std::string(4096, 'h') + "\r\n")));
  auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->status == 431);
  CHECK(r->error_code() == "request_header_fields_too_large");
  CHECK(c.wait_closed());

  blocking_client after(s.port);
  REQUIRE(after.send(get("/fine", "X-Small: " + std::string(100, 's') + "\r\n")));
  auto ok = after.read_response();
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("http_server answers 400 to garbage - closes - and keeps serving", "[http_server]") {
  std::atomic<int> calls{0};
  running_server s(test_options(), [&](http_request req, std::shared_ptr<responder> res) {
    ++calls;
    echo_handler(std::move(req), std::move(res));
  });

  blocking_client c(s.port);
  REQUIRE(c.send("THIS IS NOT HTTP\r\n\r\n"));
  auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(r->error_code() == "malformed_request");
  CHECK(c.wait_closed());
  CHECK(calls == 0);

  blocking_client after(s.port);
  REQUIRE(after.send(get("/ok")));
  auto ok = after.read_response();
  REQUIRE(ok);
  CHECK(ok->body == "GET /ok");
}

TEST_CASE("http_server answers 500 when the handler throws and keeps the connection", "[http_server]") {
  running_server s(test_options(), [](http_request req, std::shared_ptr<responder> res) {
    if (req.path == "/throw") throw std::runtime_error("boom");
    echo_handler(std::move(req), std::move(res));
  });
  blocking_client c(s.port);
  REQUIRE(c.send(get("/throw")));
  auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->status == 500);
  CHECK(r->error_code() == "internal_error");
  REQUIRE(c.send(get("/after")));
  auto ok = c.read_response();
  REQUIRE(ok);
  CHECK(ok->body == "GET /after");
}

TEST_CASE("http_server cuts off a client that trickles its headers past the read timeout", "[http_server]") {
  auto opts = test_options();
  opts.read_timeout = 200ms;
  std::atomic<int> calls{0};
  running_server s(opts, [&](http_request req, std::shared_ptr<responder> res) {
    ++calls;
    echo_handler(std::move(req), std::move(res));
  });

  blocking_client c(s.port);
  const auto start = steady::now();
  REQUIRE(c.send("GET /slow HTTP/1.1\r\nHost: test\r\n"));
  // One header byte every 50 ms: never idle long, never finished.
  bool cut = false;
  while (!cut && steady::now() - start < 2s) {
    if (!c.send("X")) break;
    cut = c.wait_closed(50ms);
  }
  const auto elapsed = steady::now() - start;
  CHECK(cut);
  CHECK(elapsed >= 150ms);
  CHECK(elapsed < 1s);
  CHECK(calls == 0);
}

TEST_CASE("http_server closes a kept-alive connection after the idle timeout", "[http_server]") {
  auto opts = test_options();
  opts.idle_timeout = 200ms;
  running_server s(opts, echo_handler);

  blocking_client c(s.port);
  REQUIRE(c.send(get("/")));
  REQUIRE(c.read_response());
  const auto start = steady::now();
  CHECK(c.wait_closed(2s));
  const auto elapsed = steady::now() - start;
  CHECK(elapsed >= 150ms);
  CHECK(elapsed < 1s);
}

TEST_CASE("http_server streams a chunked response piece by piece", "[http_server]") {
  parked_requests parked;
  running_server s(test_options(), parked.handler());

  blocking_client c(s.port);
  REQUIRE(c.send(get("/stream")));
  REQUIRE(eventually([&] { return parked.size() == 1; }));
  auto res = parked.responder_at(0);
  res->start_stream(200, {{"Content-Type", "text/event-stream"}});
  res->write("data: first\n\n");
  // The first piece must arrive while the second has not been written yet.
  REQUIRE(c.wait_for_bytes("data: first"));
  CHECK(s.server.in_flight() == 1);
  res->write("data: second\n\n");
  res->finish();
  res->write("ignored: after finish");

  auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("transfer-encoding") == "chunked");
  CHECK(r->header("content-type") == "text/event-stream");
  CHECK(r->body == "data: first\n\ndata: second\n\n");
  CHECK(eventually([&] { return s.server.in_flight() == 0; }));
  CHECK(res->pending_bytes() == 0);

  // The connection is still good for another request.
  REQUIRE(c.send(get("/next")));
  REQUIRE(eventually([&] { return parked.size() == 2; }));
  parked.responder_at(1)->respond(200, {}, "next");
  auto next = c.read_response();
  REQUIRE(next);
  CHECK(next->body == "next");
}

TEST_CASE("http_server reports a client that leaves mid-stream within 100 ms", "[http_server]") {
  parked_requests parked;
  running_server s(test_options(), parked.handler());

  blocking_client c(s.port);
  REQUIRE(c.send(get("/stream")));
  REQUIRE(eventually([&] { return parked.size() == 1; }));
  auto res = parked.responder_at(0);

  std::atomic<int> gone_calls{0};
  std::promise<steady::time_point> gone_at;
  res->on_client_gone([&] {
    if (++gone_calls == 1) gone_at.set_value(steady::now());
  });
  res->start_stream(200, {{"Content-Type", "text/event-stream"}});
  res->write("data: first\n\n");
  REQUIRE(c.wait_for_bytes("data: first"));

  const auto closed_at = steady::now();
  c.close();
  auto when = gone_at.get_future();
  REQUIRE(when.wait_for(2s) == std::future_status::ready);
  const auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(when.get() - closed_at);
  REQUIRE(latency < 100ms);
  CHECK(eventually([&] { return s.server.in_flight() == 0; }));

  // Writes after the client left are ignored; the callback ran once.
  res->write("data: late\n\n");
  res->finish();
  std::this_thread::sleep_for(20ms);
  CHECK(gone_calls == 1);

  // A callback set after the client left runs at once.
  std::promise<void> late;
  res->on_client_gone([&] { late.set_value(); });
  CHECK(late.get_future().wait_for(1s) == std::future_status::ready);
}

TEST_CASE("http_server notices a client that leaves before the response starts", "[http_server]") {
  parked_requests parked;
  running_server s(test_options(), parked.handler());

  blocking_client c(s.port);
  REQUIRE(c.send(get("/slow-upstream")));
  REQUIRE(eventually([&] { return parked.size() == 1; }));
  std::promise<void> gone;
  parked.responder_at(0)->on_client_gone([&] { gone.set_value(); });
  c.close();
  CHECK(gone.get_future().wait_for(1s) == std::future_status::ready);
  CHECK(eventually([&] { return s.server.in_flight() == 0; }));
}

TEST_CASE("http_server closes a stream whose reader stopped reading", "[http_server]") {
  auto opts = test_options();
  opts.write_stall_timeout = 200ms;
  parked_requests parked;
  running_server s(opts, parked.handler());

  blocking_client c(s.port);  // sends, then never reads
  REQUIRE(c.send(get("/stream")));
  REQUIRE(eventually([&] { return parked.size() == 1; }));
  auto res = parked.responder_at(0);
  std::promise<void> gone;
  res->on_client_gone([&] { gone.set_value(); });
  res->start_stream(200, {});
  // Far more than the loopback socket buffers hold.
  const std::string piece(1 << 20, 'z');
  std::size_t most_pending = 0;
  for (int i = 0; i < 64; ++i) {
    res->write(piece);
    most_pending = std::max(most_pending, res->pending_bytes());
  }
  CHECK(most_pending >= piece.size());  // back-pressure is visible to the producer
  CHECK(gone.get_future().wait_for(3s) == std::future_status::ready);
  CHECK(eventually([&] { return res->pending_bytes() == 0; }));
}

TEST_CASE("http_server drains: stop_accepting closes idle connections - finishes in-flight ones", "[http_server]") {
  parked_requests parked;
  running_server s(test_options(), parked.handler());

  blocking_client busy(s.port);
  blocking_client idle(s.port);
  REQUIRE(busy.send(get("/long")));
  REQUIRE(eventually([&] { return parked.size() == 1; }));
  CHECK(s.server.in_flight() == 1);

  s.server.stop_accepting();
  CHECK(idle.wait_closed(1s));
  blocking_client late(s.port);
  CHECK_FALSE(late.connected());
  CHECK(s.server.in_flight() == 1);

  parked.responder_at(0)->respond(200, {}, "done");
  auto r = busy.read_response();
  REQUIRE(r);
  CHECK(r->body == "done");
  CHECK(r->header("connection") == "close");
  CHECK(busy.wait_closed(1s));
  CHECK(eventually([&] { return s.server.in_flight() == 0; }));
}

TEST_CASE("http_server close_all ends unfinished responses as client gone", "[http_server]") {
  parked_requests parked;
  running_server s(test_options(), parked.handler());

  blocking_client c(s.port);
  REQUIRE(c.send(get("/long")));
  REQUIRE(eventually([&] { return parked.size() == 1; }));
  std::promise<void> gone;
  parked.responder_at(0)->on_client_gone([&] { gone.set_value(); });
  s.server.close_all();
  CHECK(gone.get_future().wait_for(1s) == std::future_status::ready);
  CHECK(c.wait_closed(1s));
  CHECK(eventually([&] { return s.server.in_flight() == 0; }));
}

TEST_CASE("http_server sends 100 Continue to a client that expects it", "[http_server]") {
  running_server s(test_options(), [](http_request req, std::shared_ptr<responder> res) {
    res->respond(200, {}, req.body);
  });
  blocking_client c(s.port);
  REQUIRE(c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  REQUIRE(c.wait_for_bytes("HTTP/1.1 100 Continue\r\n\r\n", 1s));
  REQUIRE(c.send("body"));
  auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->body == "body");
}

TEST_CASE("http_server answers 500 when the handler drops its responder unanswered", "[http_server]") {
  running_server s(test_options(), [](http_request, std::shared_ptr<responder>) {});
  blocking_client c(s.port);
  REQUIRE(c.send(get("/forgotten")));
  auto r = c.read_response();
  REQUIRE(r);
  CHECK(r->status == 500);
  CHECK(r->error_code() == "internal_error");
  CHECK(eventually([&] { return s.server.in_flight() == 0; }));
}

TEST_CASE("an answer from another thread is not overtaken when the handler drops the last reference",
          "[http_server]") {
  // The race the benchmark found: another thread answers (posting to the
  // strand) while the handler still holds the responder; the handler then
  // drops the last reference on the strand. The answer must win, every time.
  running_server s(test_options(), [](http_request, std::shared_ptr<responder> res) {
    std::thread([res] { res->respond(200, {{"Content-Type", "text/plain"}}, "answered"); }).join();
  });
  blocking_client c(s.port);
  REQUIRE(c.connected());
  for (int i = 0; i < 200; ++i) {
    REQUIRE(c.send(get("/race")));
    auto r = c.read_response();
    REQUIRE(r);
    REQUIRE(r->status == 200);
    REQUIRE(r->body == "answered");
  }
}

TEST_CASE("http_server on io_threads gives each connection a thread and keeps it there", "[http_server]") {
  sb::net::io_threads io(2);
  io.start();
  std::mutex mu;
  std::map<std::string, std::set<std::thread::id>> threads_by_client;  // X-Client -> threads seen
  http_server server(io, {}, [&](http_request req, std::shared_ptr<responder> res) {
    {
      std::lock_guard lock(mu);
      std::string client;
      for (auto& [n, v] : req.headers)
        if (lower(n) == "x-client") client = v;
      threads_by_client[client].insert(std::this_thread::get_id());
    }
    CHECK(io.current().has_value());  // handlers run on one of the I/O threads
    res->respond(200, {}, "ok");
  });
  auto [port, err] = server.listen();
  REQUIRE(err.empty());
  {
    blocking_client a(port), b(port);
    REQUIRE(a.connected());
    REQUIRE(b.connected());
    for (int i = 0; i < 5; ++i) {
      REQUIRE(a.send(get("/a", "X-Client: a\r\n")));
      REQUIRE(a.read_response());
      REQUIRE(b.send(get("/b", "X-Client: b\r\n")));
      REQUIRE(b.read_response());
    }
  }
  server.stop_accepting();
  server.close_all();
  std::lock_guard lock(mu);
  REQUIRE(threads_by_client["a"].size() == 1);  // a connection never changes thread
  REQUIRE(threads_by_client["b"].size() == 1);
  CHECK(*threads_by_client["a"].begin() != *threads_by_client["b"].begin());  // in turn over the threads
  CHECK_FALSE(io.current().has_value());  // the test's own thread is not one of them
}
