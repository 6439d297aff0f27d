// Actors scheduled on the gateway's I/O threads (app/io_scheduler.hpp): they
// run there and nowhere else, a message sent from an I/O handler runs its
// actor on that thread and inside that handler, actor-to-actor messages,
// timers and detached actors work, and the system stops cleanly.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <caf/all.hpp>

#include "app/io_scheduler.hpp"
#include "net/io_threads.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

using hop_atom = caf::atom_constant<caf::atom("hop")>;
using where_atom = caf::atom_constant<caf::atom("where")>;

/// `n` I/O threads (a context each), and an actor system scheduled on them.
struct io_actors {
  sb::net::io_threads io;
  std::set<std::thread::id> ids;
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;

  explicit io_actors(std::size_t n) : io(n) {
    sb::schedule_actors_on(cfg, io);
    cfg.set("logger.console", caf::atom("none"));
    io.start();
    for (std::size_t i = 0; i < n; ++i) {
      std::promise<std::thread::id> id;
      asio::post(io.at(i), [&] { id.set_value(std::this_thread::get_id()); });
      ids.insert(id.get_future().get());
    }
    sys.emplace(cfg);
  }

  ~io_actors() {
    // As the gateway does: every actor gone while the threads still run,
    // then the system, then the threads.
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (sys->registry().running() > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    sys.reset();
    io.stop();
  }
};

/// Answers each `where` with the id of the thread it ran on.
caf::behavior reporter(caf::event_based_actor*) {
  return {[](where_atom) { return std::hash<std::thread::id>{}(std::this_thread::get_id()); }};
}

std::size_t id_hash(std::thread::id id) { return std::hash<std::thread::id>{}(id); }

}  // namespace

TEST_CASE("actors run on the I/O threads and nowhere else") {
  io_actors env(2);
  std::set<std::size_t> io_ids;
  for (auto id : env.ids) io_ids.insert(id_hash(id));
  auto r = env.sys->spawn(reporter);
  caf::scoped_actor self{*env.sys};
  for (int i = 0; i < 20; ++i) {
    self->request(r, 5s, where_atom::value)
        .receive([&](std::size_t where) { CHECK(io_ids.count(where) == 1); },
                 [&](caf::error& e) { FAIL("no answer: " << env.sys->render(e)); });
  }
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
}

TEST_CASE("a message sent from an I/O handler runs its actor on that handler's thread") {
  io_actors env(2);
  struct seen {
    std::size_t sender = 0;
    std::size_t actor = 0;
  };
  constexpr int n = 50;
  std::vector<seen> runs(n);
  std::promise<void> done;
  std::atomic<int> left{n};
  std::atomic<bool> started{false};
  auto a = env.sys->spawn([&](caf::event_based_actor*) -> caf::behavior {
    return {[&](hop_atom, int i) {
      if (i < 0) {
        started = true;
        return;
      }
      runs[static_cast<std::size_t>(i)].actor = id_hash(std::this_thread::get_id());
      if (--left == 0) done.set_value();
    }};
  });
  // Spawned from this (non-I/O) thread, the actor's first run is posted to
  // some I/O thread: a message arriving before that run would be handled
  // there. Wait for the actor to have run once.
  caf::anon_send(a, hop_atom::value, -1);
  for (int i = 0; i < 5000 && !started; ++i) std::this_thread::sleep_for(1ms);
  REQUIRE(started);
  for (int i = 0; i < n; ++i) {
    asio::post(env.io.at(static_cast<std::size_t>(i) % 2), [&, i] {
      runs[static_cast<std::size_t>(i)].sender = id_hash(std::this_thread::get_id());
      caf::anon_send(a, hop_atom::value, i);
    });
    std::this_thread::sleep_for(200us);
  }
  REQUIRE(done.get_future().wait_for(5s) == std::future_status::ready);
  int same = 0;
  for (auto& r : runs) same += r.sender == r.actor ? 1 : 0;
  // Each thread runs its own context: the sender's thread runs the actor.
  CHECK(same == n);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_CASE("a message sent from an I/O handler is handled before that handler returns") {
  io_actors env(1);
  std::atomic<bool> handled{false};
  auto a = env.sys->spawn([&](caf::event_based_actor*) -> caf::behavior {
    return {[&](hop_atom, int) { handled = true; }};
  });
  // The actor's first run (its start) happens on the thread too: wait until
  // it answered once before measuring.
  caf::scoped_actor self{*env.sys};
  self->send(a, hop_atom::value, 0);
  for (int i = 0; i < 5000 && !handled; ++i) std::this_thread::sleep_for(1ms);
  REQUIRE(handled);
  handled = false;
  std::promise<bool> before_return;
  asio::post(env.io.at(0), [&] {
    caf::anon_send(a, hop_atom::value, 1);
    // No trip through the queue: the message was handled inside this call.
    before_return.set_value(handled.load());
  });
  CHECK(before_return.get_future().get());
  // From an actor, a message still waits for the sender to finish its turn.
  std::promise<bool> during_sender;
  auto sender = env.sys->spawn([&](caf::event_based_actor* me) -> caf::behavior {
    return {[&, me](hop_atom, int) {
      handled = false;
      me->send(a, hop_atom::value, 2);
      during_sender.set_value(handled.load());
    }};
  });
  asio::post(env.io.at(0), [&] { caf::anon_send(sender, hop_atom::value, 0); });
  CHECK_FALSE(during_sender.get_future().get());
  for (int i = 0; i < 5000 && !handled; ++i) std::this_thread::sleep_for(1ms);
  CHECK(handled);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sender, caf::exit_reason::user_shutdown);
}

TEST_CASE("actor-to-actor messages timers and detached actors work on the I/O threads") {
  io_actors env(2);
  std::set<std::size_t> io_ids;
  for (auto id : env.ids) io_ids.insert(id_hash(id));

  SECTION("a ping-pong of 10000 messages completes on the I/O threads") {
    std::promise<bool> result;
    std::atomic<bool> off_thread{false};
    auto pong = env.sys->spawn([&](caf::event_based_actor*) -> caf::behavior {
      return {[&](hop_atom, int n) {
        if (io_ids.count(id_hash(std::this_thread::get_id())) == 0) off_thread = true;
        return n;
      }};
    });
    env.sys->spawn([&, pong](caf::event_based_actor* self) {
      auto step = std::make_shared<std::function<void(int)>>();
      *step = [&, self, pong, step](int n) {
        if (n == 10000) return result.set_value(!off_thread);
        self->request(pong, caf::infinite, hop_atom::value, n + 1).then([step](int m) { (*step)(m); });
      };
      (*step)(0);
    });
    auto f = result.get_future();
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    CHECK(f.get());
    caf::anon_send_exit(pong, caf::exit_reason::user_shutdown);
  }

  SECTION("a delayed message arrives after its delay") {
    std::promise<std::chrono::steady_clock::duration> waited;
    auto start = std::chrono::steady_clock::now();
    env.sys->spawn([&](caf::event_based_actor* self) -> caf::behavior {
      self->delayed_send(self, 50ms, hop_atom::value, 0);
      return {[&, self](hop_atom, int) {
        waited.set_value(std::chrono::steady_clock::now() - start);
        self->quit();
      }};
    });
    auto f = waited.get_future();
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    CHECK(f.get() >= 50ms);
  }

  SECTION("a detached actor's answer reaches a scheduled actor") {
    std::promise<std::size_t> answered_on;
    auto detached = env.sys->spawn<caf::detached>(reporter);
    env.sys->spawn([&, detached](caf::event_based_actor* self) {
      self->request(detached, 5s, where_atom::value).then([&](std::size_t where) {
        // The detached actor ran on its own thread; the answer runs here.
        CHECK(io_ids.count(where) == 0);
        answered_on.set_value(id_hash(std::this_thread::get_id()));
      });
    });
    auto f = answered_on.get_future();
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    CHECK(io_ids.count(f.get()) == 1);
    caf::anon_send_exit(detached, caf::exit_reason::user_shutdown);
  }
}
