#include "app/io_scheduler.hpp"

#include <thread>
#include <vector>

#include <boost/asio/defer.hpp>
#include <boost/asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <caf/detail/set_thread_name.hpp>
#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/execution_unit.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

namespace sb {
namespace {

namespace asio = boost::asio;

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
  io_coordinator(caf::actor_system& sys, asio::io_context& ioc)
      : abstract_coordinator(sys), ioc_(ioc), unit_(sys, *this) {}

  /// From a thread that is not running an actor: an I/O handler, the clock,
  /// a detached actor, main. `defer` runs it on the calling thread after the
  /// current handler when that thread is one of the I/O threads (no other
  /// thread is woken), and queues it for any I/O thread otherwise.
  void enqueue(caf::resumable* job) override { schedule(job); }

  void schedule(caf::resumable* job) {
    asio::defer(ioc_, [this, job] { run(job); });
  }

  /// From an actor running on this thread: after it, in the same run() (a
  /// handler of its own would cost a trip through the reactor).
  void schedule_next(caf::resumable* job) {
    if (running_here == this && local_.size() < max_local_jobs)
      local_.push_back(job);
    else
      schedule(job);
  }

  caf::detail::thread_safe_actor_clock& clock() noexcept override { return clock_; }

 protected:
  void start() override {
    // Delayed messages and request timeouts, as CAF's own coordinator does.
    timer_ = std::thread([this] {
      caf::detail::set_thread_name("caf.clock");
      system().thread_started();
      clock_.run_dispatch_loop();
      system().thread_terminates();
    });
    abstract_coordinator::start();
  }

  void stop() override {
    stop_actors();
    clock_.cancel_dispatch_loop();
    if (timer_.joinable()) timer_.join();
  }

 private:
  void run(caf::resumable* first) {
    if (running_here == this) return resume(first);  // cannot happen: exec_later queues
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

  asio::io_context& ioc_;
  io_unit unit_;
  caf::detail::thread_safe_actor_clock clock_;
  std::thread timer_;
};

thread_local io_coordinator* io_coordinator::running_here = nullptr;
thread_local std::vector<caf::resumable*> io_coordinator::local_;

void io_unit::exec_later(caf::resumable* job) { owner_.schedule_next(job); }

}  // namespace

void schedule_actors_on(caf::actor_system_config& cfg, asio::io_context& ioc) {
  cfg.module_factories.push_back(
      [&ioc](caf::actor_system& sys) -> caf::actor_system::module* { return new io_coordinator(sys, ioc); });
}

}  // namespace sb
