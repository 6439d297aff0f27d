#pragma once
// One io_context per I/O thread, as in Envoy's workers and Beast's
// "io_context per thread" servers: a connection, its upstream calls and the
// actors working for it stay on one thread, and no two threads contend for
// one context's queue. (One context shared by two threads had them wake and
// lock each other ~10 times per request.)

#include <cstddef>
#include <memory>
#include <optional>

namespace boost::asio {
class io_context;
}

namespace sb::net {

class io_threads {
 public:
  explicit io_threads(std::size_t count);
  ~io_threads();  // stops and joins
  io_threads(const io_threads&) = delete;
  io_threads& operator=(const io_threads&) = delete;

  /// Runs each context on a thread of its own until stop().
  void start();
  /// Lets the contexts run out, stops them, joins the threads. Idempotent.
  void stop();

  [[nodiscard]] std::size_t size() const;
  /// Between start() and stop(): the threads take handlers.
  [[nodiscard]] bool running() const;
  boost::asio::io_context& at(std::size_t i);
  /// The index of the calling thread's context, if it is one of these.
  [[nodiscard]] std::optional<std::size_t> current() const;
  /// The next context in turn (a new connection).
  boost::asio::io_context& next();
  /// The calling thread's context, or the next one in turn for a thread of
  /// elsewhere (a timer thread, a detached actor).
  boost::asio::io_context& here_or_next();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sb::net
