#pragma once
// One client connection of http_server: reads a request, hands it to the
// handler, writes the response the handler's responder produces, and repeats
// (keep-alive). Everything runs on the connection's io_context, which one
// thread runs (io_threads), so no strand is needed; responder calls from
// other threads are posted there. Internal to net/: it includes asio.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "net/http_server.hpp"
#include "net/message_parser.hpp"
#include "net/write_queue.hpp"

namespace sb::net {

class http_connection;
class connection_responder;  // the handler's handle on one request (http_connection.cpp)

// Not a strand: a context is run by one thread (http_server.hpp), and a
// strand cost a lock and an extra hop through the queue per completion.
using connection_executor = boost::asio::io_context::executor_type;

/// What the listener and all its connections share.
struct server_state {
  server_state(http_server_options o, request_handler h) : opts(std::move(o)), handler(std::move(h)) {}

  const http_server_options opts;
  const request_handler handler;
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> draining{false};    // stop_accepting(): finish the current request, then close
  std::atomic<bool> server_gone{false};  // ~http_server(): call the handler no more

  // The registry only serves stop_accepting() and close_all(): touched once
  // per connection, never per request.
  std::uint64_t add(const std::shared_ptr<http_connection>& c);
  void remove(std::uint64_t id);
  [[nodiscard]] std::vector<std::shared_ptr<http_connection>> connections();

 private:
  std::mutex mu_;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::weak_ptr<http_connection>> connections_;
};

class http_connection : public std::enable_shared_from_this<http_connection> {
 public:
  using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, connection_executor>;

  http_connection(std::shared_ptr<server_state> state, socket_type socket);
  ~http_connection();
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  /// Registers with the server and starts reading. Call once.
  void start();
  /// stop_accepting(): an idle connection closes now, a busy one after its response.
  void drain();
  /// close_all(): closes now; an unfinished response counts as a client gone.
  void close();

  // The responder's calls, tagged with the request they belong to so that a
  // stale responder cannot touch a later request on the same connection.
  void respond(std::uint64_t seq, int status, header_list headers, std::string body);
  void start_stream(std::uint64_t seq, int status, header_list headers);
  void write(std::uint64_t seq, std::string data);
  void finish(std::uint64_t seq);
  void on_client_gone(std::uint64_t seq, std::function<void()> fn);
  [[nodiscard]] std::size_t pending_bytes() const;
  /// The responder was dropped: a response never started becomes a 500, a
  /// stream never finished is cut (a client must not take it for complete).
  void abandon(std::uint64_t seq);

 private:
  using clock = std::chrono::steady_clock;
  using timer_type = boost::asio::basic_waitable_timer<clock, boost::asio::wait_traits<clock>, connection_executor>;

  enum class phase {
    reading,    // between requests or inside one; read/idle deadline
    handling,   // the handler has the request; its response is unfinished
    lingering,  // response sent, send side shut; draining the client's leftovers before close
    closed
  };

  // reading
  void read_next_request(bool kept_alive);
  void read_more();
  void on_readable(boost::beast::error_code ec);
  void on_read(boost::beast::error_code ec, std::size_t n);
  void parse_buffered();
  void maybe_send_continue();
  void reject(const boost::beast::error_code& parse_error);
  void dispatch_request();
  void begin_request(bool counted);

  // responding (on the connection's thread)
  [[nodiscard]] bool is_current(std::uint64_t seq) const;
  void do_respond(std::uint64_t seq, int status, const header_list& headers, std::string body);
  void do_start_stream(std::uint64_t seq, int status, const header_list& headers);
  void do_write(std::uint64_t seq, std::string data);
  void do_finish(std::uint64_t seq);
  void do_on_client_gone(std::uint64_t seq, std::function<void()> fn);
  void flush();
  void on_write(boost::beast::error_code ec, std::size_t n);
  void all_written();
  void response_written();

  // ending
  void linger();
  void close_now();

  // one deadline at a time: read, idle, write stall or linger
  void set_deadline(clock::duration d);
  void clear_deadline() { deadline_ = clock::time_point::max(); }
  void arm_timer();
  void on_timer(boost::beast::error_code ec);

  std::shared_ptr<server_state> state_;
  socket_type socket_;
  timer_type timer_;
  boost::beast::flat_buffer buffer_;
  std::optional<request_parser> parser_;
  std::string remote_;
  std::uint64_t id_ = 0;

  phase phase_ = phase::reading;
  bool read_pending_ = false;
  bool write_pending_ = false;
  bool idle_wait_ = false;         // kept alive, no byte of the next request yet
  bool continue_checked_ = false;  // Expect: 100-continue looked at for this request
  clock::time_point deadline_ = clock::time_point::max();
  bool timer_waiting_ = false;

  // the current request and its response
  std::uint64_t seq_ = 0;
  bool counted_ = false;  // part of in_flight
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_only_ = false;  // HEAD: headers, no body
  bool response_started_ = false;
  bool streaming_ = false;
  bool chunked_ = false;
  bool last_queued_ = false;  // the response's final bytes are in out_
  bool close_after_ = false;
  bool client_gone_ = false;
  std::function<void()> gone_fn_;
  // Responders hold the connection weakly, so one kept past the io_context
  // cannot destroy a socket after its service; pending operations keep the
  // connection alive. When none is pending while a response is owed (the
  // watch read stopped at its cap) it holds itself until response or close.
  std::weak_ptr<connection_responder> responder_;
  std::shared_ptr<http_connection> self_hold_;

  std::string head_;  // the response head, reused; out_ borrows it
  std::atomic<std::size_t> queued_bytes_{0};  // in out_
  std::atomic<std::size_t> posted_bytes_{0};  // handed to the responder, not yet on the connection's thread
  write_queue out_{queued_bytes_};
};

}  // namespace sb::net
