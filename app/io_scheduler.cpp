#include "app/io_scheduler.hpp"

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/defer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <caf/detail/set_thread_name.hpp>
#include <caf/detail/simple_actor_clock.hpp>
#include <caf/execution_unit.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include "net/io_threads.hpp"

namespace sb {
namespace {

namespace asio = boost::asio;

/// Timers (delayed messages, request timeouts) on a thread of their own.
/// CAF's thread-safe clock queues every operation for its thread, so each
/// actor's exit (which cancels its timeouts, usually none) woke that thread:
/// once per request, with lock contention against the I/O threads. Here every
/// operation runs under a lock on the caller's thread, and the timer thread
/// is woken only when a new entry becomes the earliest.
class io_clock final : public caf::detail::simple_actor_clock {
 public:
  using super = caf::detail::simple_actor_clock;

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self, caf::atom_value type,
                            std::uint64_t id) override {
    add(t, [&] { super::set_ordinary_timeout(t, self, type, id); });
  }
  void set_multi_timeout(time_point t, caf::abstract_actor* self, caf::atom_value type,
                         std::uint64_t id) override {
    add(t, [&] { super::set_multi_timeout(t, self, type, id); });
  }
  void set_request_timeout(time_point t, caf::abstract_actor* self, caf::message_id id) override {
    add(t, [&] { super::set_request_timeout(t, self, id); });
  }
  void schedule_message(time_point t, caf::strong_actor_ptr receiver,
                        caf::mailbox_element_ptr content) override {
    add(t, [&] { super::schedule_message(t, std::move(receiver), std::move(content)); });
  }
  void schedule_message(time_point t, caf::group target, caf::strong_actor_ptr sender,
                        caf::message content) override {
    add(t, [&] { super::schedule_message(t, std::move(target), std::move(sender), std::move(content)); });
  }
  // A cancelled entry never needs the timer thread: at worst it wakes for an
  // entry that is gone and sleeps again.
  void cancel_ordinary_timeout(caf::abstract_actor* self, caf::atom_value type) override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    super::cancel_ordinary_timeout(self, type);
  }
  void cancel_request_timeout(caf::abstract_actor* self, caf::message_id id) override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    super::cancel_request_timeout(self, id);
  }
  void cancel_timeouts(caf::abstract_actor* self) override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    if (actor_lookup().count(self->id()) == 0) return;  // the common case: none
    super::cancel_timeouts(self);
  }
  void cancel_all() override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    super::cancel_all();
  }

  /// The timer thread's loop, until stop().
  void run() {
    std::unique_lock<std::recursive_mutex> lock(mutex_);
    while (!done_) {
      if (schedule().empty())
        wake_.wait(lock);
      else
        wake_.wait_until(lock, schedule().begin()->first);
      // Recursive: shipping a message may drop the last reference to an
      // actor, whose cleanup cancels its timeouts here.
      trigger_expired_timeouts();
    }
  }
  void stop() {
    {
      std::lock_guard<std::recursive_mutex> lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
  }

 private:
  template <class F>
  void add(time_point t, F&& insert) {
    bool earliest;
    {
      std::lock_guard<std::recursive_mutex> lock(mutex_);
      earliest = schedule().empty() || t < schedule().begin()->first;
      insert();
    }
    if (earliest) wake_.notify_one();
  }

  std::recursive_mutex mutex_;
  std::condition_variable_any wake_;
  bool done_ = false;
};

class io_coordinator;

/// The context an actor runs in. CAF's workers keep queues per thread; this
/// one keeps none (the io_context is the queue), so one serves every thread.
class io_unit final : public caf::execution_unit {
 public:
  io_unit(caf::actor_system& sys, io_coordinator& owner) : caf::execution_unit(&sys), owner_(owner) {}
  /// An actor running here sent to an idle actor: that one runs next, in the
  /// same handler (io_coordinator::run), not as a handler of its own.
  void exec_later(caf::resumable* job) override;

 private:
  io_coordinator& owner_;
};

class io_coordinator final : public caf::scheduler::abstract_coordinator {
 public:
  io_coordinator(caf::actor_system& sys, net::io_threads& threads)
      : abstract_coordinator(sys), threads_(threads), unit_(sys, *this) {}

  /// A message without an execution unit (anon_send, a spawn). From an
  /// actor running here, it runs after that one (schedule_next). From an
  /// I/O handler, it runs now, inside that handler: a `defer` would cost a
  /// trip through the queue and an empty epoll_wait per message, twice per
  /// request (the session's spawn, the upstream answer). The net/ objects
  /// calling out expect their callbacks to re-enter them (a handler may
  /// respond before it returns). From elsewhere (the clock, a detached
  /// actor, main) it goes to the next I/O thread in turn.
  void enqueue(caf::resumable* job) override {
    if (running_here == this) return schedule_next(job);
    if (threads_.current()) return run(job);
    schedule(job);
  }

  void schedule(caf::resumable* job) {
    asio::defer(threads_.here_or_next(), [this, job] { run(job); });
  }

  /// From an actor running on this thread: after it, in the same run() (a
  /// handler of its own would cost a trip through the reactor).
  void schedule_next(caf::resumable* job) {
    if (running_here == this && local_.size() < max_local_jobs)
      local_.push_back(job);
    else
      schedule(job);
  }

  caf::actor_clock& clock() noexcept override { return clock_; }

 protected:
  void start() override {
    // Delayed messages and request timeouts, as CAF's own coordinator does.
    timer_ = std::thread([this] {
      caf::detail::set_thread_name("caf.clock");
      system().thread_started();
      clock_.run();
      system().thread_terminates();
    });
    abstract_coordinator::start();
  }

  void stop() override {
    stop_actors();
    // An actor counts as gone once it deregisters, which CAF does before
    // the rest of its cleanup (cancelling its timeouts on the clock, ...):
    // let every I/O thread finish the handler it is in before the system's
    // parts go away under it. Twice: what such a handler defers lands in
    // the queue behind the first barrier.
    finish_running_handlers();
    finish_running_handlers();
    clock_.stop();
    if (timer_.joinable()) timer_.join();
    // Pending entries hold references to their actors: a detached one's
    // thread waits for its actor to be destroyed, and the system for it.
    clock_.cancel_all();
  }

 private:
  /// A barrier through each I/O thread's queue. Threads already stopped
  /// (the gateway joins them before the system goes) ran their last
  /// handler; the wait is bounded all the same.
  void finish_running_handlers() {
    if (!threads_.running()) return;
    std::vector<std::future<void>> passed;
    for (std::size_t i = 0; i < threads_.size(); ++i) {
      if (threads_.current() == i) continue;  // this thread is in no other handler
      auto done = std::make_shared<std::promise<void>>();
      passed.push_back(done->get_future());
      asio::post(threads_.at(i), [done] { done->set_value(); });
    }
    for (auto& f : passed) f.wait_for(std::chrono::seconds(1));
  }

  void run(caf::resumable* first) {
    if (running_here == this) return resume(first);  // cannot happen: both entries queue
    running_here = this;
    local_.clear();
    resume(first);
    // Actors woken by the one that ran: each in turn, bounded so that one
    // chatty pair cannot keep this thread from its sockets.
    for (std::size_t i = 0; i < local_.size(); ++i) resume(local_[i]);
    local_.clear();
    running_here = nullptr;
  }

  void resume(caf::resumable* job) {
    switch (job->resume(&unit_, max_throughput_)) {
      case caf::resumable::resume_later:
        // Used up its throughput with messages left: behind what waits.
        return schedule(job);
      case caf::resumable::done:
      case caf::resumable::awaiting_message:
        caf::intrusive_ptr_release(job);
        return;
      case caf::resumable::shutdown_execution_unit:
        return;  // only CAF's own workers are asked to shut down this way
    }
  }

  static constexpr std::size_t max_local_jobs = 64;
  // The coordinator whose run() this thread is in, if any.
  static thread_local io_coordinator* running_here;
  // Jobs woken during this thread's run(): thread-local, as each I/O thread
  // runs its own.
  static thread_local std::vector<caf::resumable*> local_;

  net::io_threads& threads_;
  io_unit unit_;
  io_clock clock_;
  std::thread timer_;
};

thread_local io_coordinator* io_coordinator::running_here = nullptr;
thread_local std::vector<caf::resumable*> io_coordinator::local_;

void io_unit::exec_later(caf::resumable* job) { owner_.schedule_next(job); }

}  // namespace

void schedule_actors_on(caf::actor_system_config& cfg, net::io_threads& threads) {
  cfg.module_factories.push_back([&threads](caf::actor_system& sys) -> caf::actor_system::module* {
    return new io_coordinator(sys, threads);
  });
}

}  // namespace sb
