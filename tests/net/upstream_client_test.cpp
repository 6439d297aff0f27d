#include <catch2/catch.hpp>

#include <condition_variable>
#include <future>

#include <boost/asio/executor_work_guard.hpp>

#include "net/upstream_client.hpp"
#include "net/upstream_url.hpp"
#include "tests/net/test_upstream_server.hpp"

using namespace std::chrono_literals;
using sb::net::upstream_client;
using sb::net::upstream_client_options;
using sb::net::upstream_error;
using sb::net::upstream_head;
using sb::net::upstream_request;
using sb::test::test_certificate;
using sb::test::test_clock;
using sb::test::test_connection;
using sb::test::test_upstream_server;

namespace {

/// A client on its own io_context and I/O thread, as each of the gateway's
/// pools has (one thread per context: no strands).
struct client_fixture {
  boost::asio::io_context ioc;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
  std::unique_ptr<upstream_client> client;
  std::vector<std::thread> threads;

  explicit client_fixture(upstream_client_options opts = {})
      : client(std::make_unique<upstream_client>(ioc, std::move(opts))) {
    threads.emplace_back([this] { ioc.run(); });
  }
  ~client_fixture() {
    work.reset();
    ioc.stop();
    for (auto& t : threads) {
      t.join();
    }
    client.reset();  // after the io_context stopped: what the client documents as safe
  }
};

/// Everything the handlers of one call saw, in order, for the test thread.
struct call_log {
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<upstream_head> head;
  std::vector<std::string> pieces;
  bool ended = false;
  std::optional<upstream_error> error;
  std::string error_detail;
  int terminals = 0;
  int after_terminal = 0;  // handlers that ran after on_end / on_error: must stay 0
  std::function<void(const std::string&)> on_piece;  // runs on the I/O thread

  bool wait_done(std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return terminals > 0; });
  }
  bool wait_pieces(std::size_t n, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return pieces.size() >= n || terminals > 0; }) &&
           pieces.size() >= n;
  }
  std::string body() {
    std::lock_guard lock(mutex);
    std::string all;
    for (const auto& p : pieces) {
      all += p;
    }
    return all;
  }
};

sb::net::upstream_handlers record_into(const std::shared_ptr<call_log>& log) {
  sb::net::upstream_handlers h;
  h.on_head = [log](upstream_head head) {
    std::lock_guard lock(log->mutex);
    log->after_terminal += log->terminals;
    log->head = std::move(head);
    log->changed.notify_all();
  };
  h.on_data = [log](std::string piece) {
    std::function<void(const std::string&)> hook;
    {
      std::lock_guard lock(log->mutex);
      log->after_terminal += log->terminals;
      log->pieces.push_back(piece);
      hook = log->on_piece;
      log->changed.notify_all();
    }
    if (hook) {
      hook(piece);
    }
  };
  h.on_end = [log] {
    std::lock_guard lock(log->mutex);
    log->after_terminal += log->terminals;
    log->ended = true;
    ++log->terminals;
    log->changed.notify_all();
  };
  h.on_error = [log](upstream_error e, std::string detail) {
    std::lock_guard lock(log->mutex);
    log->after_terminal += log->terminals;
    log->error = e;
    log->error_detail = std::move(detail);
    ++log->terminals;
    log->changed.notify_all();
  };
  return h;
}

upstream_request post(std::string url, std::string body = "{}") {
  upstream_request req;
  req.url = std::move(url);
  req.body = std::move(body);
  req.headers = {{"Content-Type", "application/json"}};
  return req;
}

std::string response_with_body(std::string_view body, std::string_view content_type = "application/json") {
  return "HTTP/1.1 200 OK\r\nContent-Type: " + std::string(content_type) +
         "\r\nX-Request-Id: abc\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

std::string chunk(std::string_view data) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + std::string(data) + "\r\n";
}

const std::string stream_head =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

// Serves every request on the connection with the same answer, until the
// client closes: a keep-alive server.
test_upstream_server::script answer_every_request(std::string response) {
  return [response](test_connection& conn) {
    while (conn.read_request()) {
      if (!conn.write(response)) {
        return;
      }
    }
  };
}

/// A port nobody listens on: bound, then closed.
std::uint16_t closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

long long ms_since(test_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(test_clock::now() - t).count();
}

}  // namespace

TEST_CASE("upstream url: scheme - host - default and explicit ports - target", "[upstream]") {
  std::string error;
  auto a = sb::net::parse_upstream_url("https://api.openai.com/v1/chat/completions", error);
  REQUIRE(a);
  CHECK(a->tls);
  CHECK(a->host == "api.openai.com");
  CHECK(a->port == 443);
  CHECK(a->host_header == "api.openai.com");
  CHECK(a->target == "/v1/chat/completions");
  CHECK_FALSE(a->host_is_ip);
  CHECK(a->origin() == "https://api.openai.com:443");

  auto b = sb::net::parse_upstream_url("http://127.0.0.1:8081/x:streamGenerateContent?alt=sse", error);
  REQUIRE(b);
  CHECK_FALSE(b->tls);
  CHECK(b->port == 8081);
  CHECK(b->host_header == "127.0.0.1:8081");
  CHECK(b->target == "/x:streamGenerateContent?alt=sse");
  CHECK(b->host_is_ip);

  auto c = sb::net::parse_upstream_url("http://[::1]:9000", error);
  REQUIRE(c);
  CHECK(c->host == "::1");
  CHECK(c->host_header == "[::1]:9000");
  CHECK(c->target == "/");

  CHECK_FALSE(sb::net::parse_upstream_url("ftp://example.com/", error));
  CHECK_FALSE(sb::net::parse_upstream_url("not a url", error));
  CHECK_FALSE(sb::net::parse_upstream_url("https://user:secret@example.com/", error));
}

TEST_CASE("upstream: POST sends headers and body - returns head and body", "[upstream]") {
  std::promise<std::string> seen;
  test_upstream_server server([&](test_connection& conn) {
    auto request = conn.read_request();
    seen.set_value(request.value_or(""));
    conn.write(response_with_body("{\"ok\":true}"));
    conn.wait_for_close();
  });
  client_fixture f;
  auto log = std::make_shared<call_log>();
  auto req = post(server.url("/v1/chat/completions?x=1"), "{\"model\":\"m\"}");
  req.headers.emplace_back("x-api-key", "k-123");
  req.headers.emplace_back("Host", "wrong.example");  // ours wins: it must match the URL
  f.client->start(req, record_into(log));

  REQUIRE(log->wait_done());
  CHECK(log->ended);
  CHECK_FALSE(log->error);
  REQUIRE(log->head);
  CHECK(log->head->status == 200);
  CHECK(std::count(log->head->headers.begin(), log->head->headers.end(),
                   std::pair<std::string, std::string>{"x-request-id", "abc"}) == 1);
  CHECK(log->body() == "{\"ok\":true}");

  auto request = seen.get_future().get();
  INFO(request);
  CHECK(request.rfind("POST /v1/chat/completions?x=1 HTTP/1.1\r\n", 0) == 0);
  CHECK(request.find("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n") != std::string::npos);
  CHECK(request.find("wrong.example") == std::string::npos);
  CHECK(request.find("Content-Length: 13\r\n") != std::string::npos);
  CHECK(request.find("x-api-key: k-123\r\n") != std::string::npos);
  CHECK(request.find("Connection: keep-alive\r\n") != std::string::npos);
  CHECK(request.substr(request.size() - 13) == "{\"model\":\"m\"}");
}

TEST_CASE("upstream: a chunked stream reaches on_data piece by piece - as it arrives", "[upstream]") {
  auto first_piece_seen = std::make_shared<std::promise<void>>();
  std::atomic<bool> client_saw_first_before_second{false};
  test_upstream_server server([&](test_connection& conn) {
    conn.read_request();
    conn.write(stream_head + chunk("data: one\n\n"));
    // The second piece goes out only once the client has the first.
    auto waited = first_piece_seen->get_future().wait_for(2s);
    client_saw_first_before_second = waited == std::future_status::ready;
    conn.write(chunk("data: two\n\n") + chunk("") );
    conn.wait_for_close();
  });
  client_fixture f;
  auto log = std::make_shared<call_log>();
  log->on_piece = [first_piece_seen, once = std::make_shared<std::once_flag>()](const std::string&) {
    std::call_once(*once, [&] { first_piece_seen->set_value(); });
  };
  f.client->start(post(server.url()), record_into(log));

  REQUIRE(log->wait_done());
  CHECK(log->ended);
  CHECK(client_saw_first_before_second);
  REQUIRE(log->pieces.size() >= 2);
  CHECK(log->pieces[0] == "data: one\n\n");  // chunk framing removed
  CHECK(log->body() == "data: one\n\ndata: two\n\n");
}

TEST_CASE("upstream: keep-alive - a second call reuses the pooled connection", "[upstream]") {
  test_upstream_server server(answer_every_request(response_with_body("pong")));
  client_fixture f;
  for (int i = 0; i < 3; ++i) {
    auto log = std::make_shared<call_log>();
    f.client->start(post(server.url()), record_into(log));
    REQUIRE(log->wait_done());
    REQUIRE(log->ended);
    CHECK(log->body() == "pong");
    CHECK(f.client->idle_connections() == 1);
  }
  CHECK(server.accepted() == 1);
}

TEST_CASE("upstream: a chunked keep-alive response also goes back to the pool", "[upstream]") {
  test_upstream_server server(answer_every_request(stream_head + chunk("data: x\n\n") + chunk("")));
  client_fixture f;
  for (int i = 0; i < 2; ++i) {
    auto log = std::make_shared<call_log>();
    f.client->start(post(server.url()), record_into(log));
    REQUIRE(log->wait_done());
    CHECK(log->ended);
  }
  CHECK(server.accepted() == 1);
}

TEST_CASE("upstream: 'Connection: close' from the server keeps it out of the pool", "[upstream]") {
  test_upstream_server server([](test_connection& conn) {
    conn.read_request();
    conn.write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
    conn.wait_for_close();
  });
  client_fixture f;
  auto log = std::make_shared<call_log>();
  f.client->start(post(server.url()), record_into(log));
  REQUIRE(log->wait_done());
  CHECK(log->ended);
  CHECK(f.client->idle_connections() == 0);
}

TEST_CASE("upstream: a pooled connection found dead is retried once on a fresh one", "[upstream]") {
  std::atomic<int> requests{0};
  std::atomic<int> connection_number{0};
  test_upstream_server server([&](test_connection& conn) {
    int n = ++connection_number;
    while (conn.read_request()) {
      ++requests;
      if (n == 1 && requests == 2) {
        conn.close();  // the keep-alive race: closed as the next request arrives
        return;
      }
      conn.write(response_with_body("fine"));
    }
  });
  client_fixture f;
  for (int i = 0; i < 2; ++i) {
    auto log = std::make_shared<call_log>();
    f.client->start(post(server.url()), record_into(log));
    REQUIRE(log->wait_done());
    INFO("call " << i << ": " << log->error_detail);
    CHECK(log->ended);
    CHECK(log->body() == "fine");
  }
  CHECK(server.accepted() == 2);
  CHECK(requests == 3);
}

TEST_CASE("upstream: a fresh connection closed before the response is not retried", "[upstream]") {
  test_upstream_server server([](test_connection& conn) {
    conn.read_request();
    conn.close();
  });
  client_fixture f;
  auto log = std::make_shared<call_log>();
  f.client->start(post(server.url()), record_into(log));
  REQUIRE(log->wait_done());
  REQUIRE(log->error);
  CHECK(*log->error == upstream_error::connection_reset);
  CHECK(server.accepted() == 1);
}

TEST_CASE("upstream: connection refused fails with connect_failed", "[upstream]") {
  client_fixture f;
  auto log = std::make_shared<call_log>();
  auto started = test_clock::now();
  f.client->start(post("http://127.0.0.1:" + std::to_string(closed_port()) + "/"), record_into(log));
  REQUIRE(log->wait_done());
  REQUIRE(log->error);
  CHECK(*log->error == upstream_error::connect_failed);
  CHECK(ms_since(started) < 1000);
}

TEST_CASE("upstream: a TCP connect that hangs fails with timeout_connect", "[upstream]") {
  // A listener with a full accept queue drops new SYNs, so connect() hangs.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), 0);
  boost::asio::ip::tcp::acceptor full(ioc, ep.protocol());
  full.bind(ep);
  full.listen(0);
  auto port = full.local_endpoint().port();
  std::vector<boost::asio::ip::tcp::socket> fillers;
  fillers.emplace_back(ioc).connect({ep.address(), port});

  client_fixture f;
  auto log = std::make_shared<call_log>();
  auto req = post("http://127.0.0.1:" + std::to_string(port) + "/");
  req.timeouts.connect = 200ms;
  auto started = test_clock::now();
  f.client->start(req, record_into(log));
  REQUIRE(log->wait_done());
  REQUIRE(log->error);
  CHECK(*log->error == upstream_error::timeout_connect);
  CHECK(ms_since(started) >= 190);
  CHECK(ms_since(started) < 1500);
}

TEST_CASE("upstream: a TLS handshake that never ends counts against the connect timeout", "[upstream]") {
  std::atomic<bool> client_closed{false};
  test_upstream_server silent([&](test_connection& conn) {  // plain TCP: never answers a ClientHello
    client_closed = conn.wait_for_close(3000ms).has_value();
  });
  client_fixture f;
  auto log = std::make_shared<call_log>();
  auto req = post("https://127.0.0.1:" + std::to_string(silent.port()) + "/");
  req.timeouts.connect = 200ms;
  f.client->start(req, record_into(log));
  REQUIRE(log->wait_done());
  REQUIRE(log->error);
  CHECK(*log->error == upstream_error::timeout_connect);
}

TEST_CASE("upstream: no response head in time fails with timeout_first_byte", "[upstream]") {
  std::optional<test_clock::time_point> closed_at;
  test_upstream_server server([&](test_connection& conn) {
    conn.read_request();
    closed_at = conn.wait_for_close(3000ms);
  });
  client_fixture f;
  auto log = std::make_shared<call_log>();
  auto req = post(server.url());
  req.timeouts.first_byte = 200ms;
  auto started = test_clock::now();
  f.client->start(req, record_into(log));
  REQUIRE(log->wait_done());
  auto elapsed = ms_since(started);
  REQUIRE(log->error);
  CHECK(*log->error == upstream_error::timeout_first_byte);
  CHECK_FALSE(log->head);
  CHECK(elapsed >= 190);
  CHECK(elapsed < 1500);
}

TEST_CASE("upstream: a stream that outlasts the total budget fails with timeout_total", "[upstream]") {
  test_upstream_server server([](test_connection& conn) {
    conn.read_request();
    if (!conn.write(stream_head)) {
      return;
    }
    // Trickles for ever, until the client goes away.
    for (int i = 0; i < 200 && conn.write(chunk("data: tick\n\n")); ++i) {
      std::this_thread::sleep_for(20ms);
    }
  });
  client_fixture f;
  auto log = std::make_shared<call_log>();
  auto req = post(server.url());
  req.timeouts.total = 400ms;
  auto started = test_clock::now();
  f.client->start(req, record_into(log));
  REQUIRE(log->wait_done());
  auto elapsed = ms_since(started);
  REQUIRE(log->error);
  CHECK(*log->error == upstream_error::timeout_total);
  CHECK(log->head);
  CHECK(log->pieces.size() >= 2);
  CHECK(elapsed >= 390);
  CHECK(elapsed < 1500);
  CHECK(log->after_terminal == 0);
}

TEST_CASE("upstream: cancel closes the upstream socket within 100 ms", "[upstream]") {
  std::promise<std::optional<test_clock::time_point>> server_saw_close;
  test_upstream_server server([&](test_connection& conn) {
    conn.read_request();
    conn.write(stream_head + chunk("data: first\n\n"));
    server_saw_close.set_value(conn.wait_for_close(3000ms));
  });
  client_fixture f;
  auto log = std::make_shared<call_log>();
  auto call = f.client->start(post(server.url()), record_into(log));
  REQUIRE(log->wait_pieces(1));

  auto cancelled_at = test_clock::now();
  call->cancel();
  call->cancel();  // idempotent
  auto closed_at = server_saw_close.get_future().get();
  REQUIRE(closed_at);
  auto close_latency = std::chrono::duration_cast<std::chrono::milliseconds>(*closed_at - cancelled_at);
  INFO("server saw the close " << close_latency.count() << " ms after cancel()");
  REQUIRE(close_latency < 100ms);

  REQUIRE(log->wait_done());
  std::this_thread::sleep_for(50ms);  // room for a stray handler to show up
  std::lock_guard lock(log->mutex);
  CHECK(log->terminals == 1);
  REQUIRE(log->error);
  CHECK(*log->error == upstream_error::cancelled);
  CHECK_FALSE(log->ended);
  CHECK(log->after_terminal == 0);
  CHECK(f.client->idle_connections() == 0);
}

TEST_CASE("upstream: cancel before the response arrives ends with one cancelled", "[upstream]") {
  test_upstream_server server([](test_connection& conn) {
    conn.read_request();
    conn.wait_for_close(3000ms);
  });
  client_fixture f;
  auto log = std::make_shared<call_log>();
  auto call = f.client->start(post(server.url()), record_into(log));
  std::this_thread::sleep_for(50ms);
  call->cancel();
  REQUIRE(log->wait_done());
  std::this_thread::sleep_for(50ms);
  std::lock_guard lock(log->mutex);
  CHECK(log->terminals == 1);
  REQUIRE(log->error);
  CHECK(*log->error == upstream_error::cancelled);
  CHECK_FALSE(log->head);
}

TEST_CASE("upstream: a server reset mid-body fails with connection_reset", "[upstream]") {
  test_upstream_server server([](test_connection& conn) {
    conn.read_request();
    conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
    std::this_thread::sleep_for(50ms);
    conn.reset();
  });
  client_fixture f;
  auto log = std::make_shared<call_log>();
  f.client->start(post(server.url()), record_into(log));
  REQUIRE(log->wait_done());
  REQUIRE(log->error);
  CHECK(*log->error == upstream_error::connection_reset);
  CHECK(log->head);
  CHECK(log->body() == "0123456789");
  CHECK(f.client->idle_connections() == 0);
}

TEST_CASE("upstream: bytes that are not HTTP fail with protocol_error", "[upstream]") {
  test_upstream_server server([](test_connection& conn) {
    conn.read_request();
    conn.write("SSH-2.0-OpenSSH_9.2\r\n\r\n");
    conn.wait_for_close(3000ms);
  });
  client_fixture f;
  auto log = std::make_shared<call_log>();
  f.client->start(post(server.url()), record_into(log));
  REQUIRE(log->wait_done());
  REQUIRE(log->error);
  CHECK(*log->error == upstream_error::protocol_error);
}

TEST_CASE("upstream: a whole body over the cap fails - a stream has no cap", "[upstream]") {
  std::string big(5000, 'x');
  upstream_client_options opts;
  opts.max_response_body = 1000;
  SECTION("application/json") {
    test_upstream_server server(answer_every_request(response_with_body(big)));
    client_fixture f(opts);
    auto log = std::make_shared<call_log>();
    f.client->start(post(server.url()), record_into(log));
    REQUIRE(log->wait_done());
    REQUIRE(log->error);
    CHECK(*log->error == upstream_error::protocol_error);
  }
  SECTION("text/event-stream") {
    test_upstream_server server(answer_every_request(response_with_body(big, "text/event-stream")));
    client_fixture f(opts);
    auto log = std::make_shared<call_log>();
    f.client->start(post(server.url()), record_into(log));
    REQUIRE(log->wait_done());
    CHECK(log->ended);
    CHECK(log->body() == big);
  }
}

TEST_CASE("upstream: idle pooled connections expire and are closed", "[upstream]") {
  std::promise<bool> closed;
  test_upstream_server server([&](test_connection& conn) {
    conn.read_request();
    conn.write(response_with_body("ok"));
    closed.set_value(conn.wait_for_close(3000ms).has_value());
  });
  upstream_client_options opts;
  opts.idle_expiry = 100ms;
  client_fixture f(opts);
  auto log = std::make_shared<call_log>();
  f.client->start(post(server.url()), record_into(log));
  REQUIRE(log->wait_done());
  CHECK(f.client->idle_connections() == 1);
  CHECK(closed.get_future().get());
  CHECK(f.client->idle_connections() == 0);
}

TEST_CASE("upstream: a malformed URL fails the call without I/O", "[upstream]") {
  client_fixture f;
  auto log = std::make_shared<call_log>();
  upstream_request req;
  req.url = "api.openai.com/v1";
  f.client->start(req, record_into(log));
  REQUIRE(log->wait_done());
  REQUIRE(log->error);
  CHECK(*log->error == upstream_error::resolve_failed);
}

TEST_CASE("upstream: a header that would split the request fails the call before any byte is sent", "[upstream]") {
  std::atomic<int> connections{0};
  test_upstream_server server([&](test_connection&) { ++connections; });
  client_fixture f;
  auto log = std::make_shared<call_log>();
  auto req = post(server.url());
  req.headers.emplace_back("X-Trace", "a\r\nX-Injected: yes");
  f.client->start(req, record_into(log));
  REQUIRE(log->wait_done());
  REQUIRE(log->error);
  CHECK(*log->error == upstream_error::protocol_error);
  CHECK(connections == 0);
}

TEST_CASE("upstream: HTTPS with a trusted test certificate - reused", "[upstream][tls]") {
  test_certificate cert;
  REQUIRE(cert.ok());
  test_upstream_server server(answer_every_request(response_with_body("secure")), cert.files());
  upstream_client_options opts;
  opts.ca_file = cert.cert_pem();
  client_fixture f(opts);
  for (int i = 0; i < 2; ++i) {
    auto log = std::make_shared<call_log>();
    f.client->start(post(server.url()), record_into(log));
    REQUIRE(log->wait_done());
    INFO(log->error_detail);
    CHECK(log->ended);
    CHECK(log->body() == "secure");
  }
  CHECK(server.accepted() == 1);
}

TEST_CASE("upstream: HTTPS with an untrusted certificate fails with tls_failed", "[upstream][tls]") {
  test_certificate cert;
  REQUIRE(cert.ok());
  test_upstream_server server(answer_every_request(response_with_body("secure")), cert.files());
  client_fixture f;  // system store only: the self-signed test certificate is not in it
  auto log = std::make_shared<call_log>();
  f.client->start(post(server.url()), record_into(log));
  REQUIRE(log->wait_done());
  REQUIRE(log->error);
  INFO(log->error_detail);
  CHECK(*log->error == upstream_error::tls_failed);
  CHECK_FALSE(log->head);
}

TEST_CASE("upstream: a trusted certificate for another name fails with tls_failed", "[upstream][tls]") {
  test_certificate cert("DNS:api.example.com");
  REQUIRE(cert.ok());
  test_upstream_server server(answer_every_request(response_with_body("secure")), cert.files());
  upstream_client_options opts;
  opts.ca_file = cert.cert_pem();  // trusted, but it does not name 127.0.0.1
  client_fixture f(opts);
  auto log = std::make_shared<call_log>();
  f.client->start(post(server.url()), record_into(log));
  REQUIRE(log->wait_done());
  REQUIRE(log->error);
  INFO(log->error_detail);
  CHECK(*log->error == upstream_error::tls_failed);
}

TEST_CASE("upstream: an unreadable ca_file fails https calls with tls_failed", "[upstream][tls]") {
  upstream_client_options opts;
  opts.ca_file = "/nonexistent/ca.pem";
  client_fixture f(opts);
  auto log = std::make_shared<call_log>();
  f.client->start(post("https://127.0.0.1:" + std::to_string(closed_port()) + "/"), record_into(log));
  REQUIRE(log->wait_done());
  REQUIRE(log->error);
  CHECK(*log->error == upstream_error::tls_failed);
}

TEST_CASE("upstream: concurrent calls all complete and share the pool", "[upstream]") {
  test_upstream_server server(answer_every_request(stream_head + chunk("data: a\n\n") + chunk("data: b\n\n") + chunk("")));
  client_fixture f;
  std::vector<std::shared_ptr<call_log>> logs;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 16; ++i) {
      logs.push_back(std::make_shared<call_log>());
      f.client->start(post(server.url()), record_into(logs.back()));
    }
    for (auto& log : logs) {
      REQUIRE(log->wait_done());
      INFO(log->error_detail);
      CHECK(log->ended);
      CHECK(log->body() == "data: a\n\ndata: b\n\n");
    }
  }
  CHECK(f.client->idle_connections() <= 16);
  CHECK(server.accepted() <= 16);  // the second round found the first round's connections
}

TEST_CASE("upstream: destroying the client leaves calls in flight intact", "[upstream]") {
  auto go_on = std::make_shared<std::promise<void>>();
  test_upstream_server server([go_on](test_connection& conn) {
    conn.read_request();
    conn.write(stream_head + chunk("data: one\n\n"));
    go_on->get_future().wait_for(2s);
    conn.write(chunk("data: two\n\n") + chunk(""));
    conn.wait_for_close(2000ms);
  });
  client_fixture f;
  auto log = std::make_shared<call_log>();
  f.client->start(post(server.url()), record_into(log));
  REQUIRE(log->wait_pieces(1));
  f.client.reset();
  go_on->set_value();
  REQUIRE(log->wait_done());
  INFO(log->error_detail);
  CHECK(log->ended);
  CHECK(log->body() == "data: one\n\ndata: two\n\n");
}
