#include "net/io_threads.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace sb::net {

namespace asio = boost::asio;

namespace {
// Which io_threads and which of its contexts this thread runs, if any.
thread_local const void* running_owner = nullptr;
thread_local std::size_t running_index = 0;
}  // namespace

struct io_threads::impl {
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<std::size_t> turn{0};
  std::atomic<bool> running{false};
};

io_threads::io_threads(std::size_t count) : impl_(std::make_unique<impl>()) {
  if (count == 0) count = 1;
  for (std::size_t i = 0; i < count; ++i)
    // Concurrency hint 1: each context is run by exactly one thread.
    impl_->contexts.push_back(std::make_unique<asio::io_context>(1));
}

io_threads::~io_threads() { stop(); }

void io_threads::start() {
  auto& d = *impl_;
  if (!d.threads.empty()) return;
  d.running = true;
  for (std::size_t i = 0; i < d.contexts.size(); ++i) {
    d.work.push_back(asio::make_work_guard(*d.contexts[i]));
    d.threads.emplace_back([this, i] {
      running_owner = this;
      running_index = i;
      impl_->contexts[i]->run();
      running_owner = nullptr;
    });
  }
}

void io_threads::stop() {
  auto& d = *impl_;
  d.running = false;
  d.work.clear();
  for (auto& c : d.contexts) c->stop();
  for (auto& t : d.threads)
    if (t.joinable()) t.join();
  d.threads.clear();
}

std::size_t io_threads::size() const { return impl_->contexts.size(); }

bool io_threads::running() const { return impl_->running.load(); }

asio::io_context& io_threads::at(std::size_t i) { return *impl_->contexts.at(i); }

std::optional<std::size_t> io_threads::current() const {
  if (running_owner == this) return running_index;
  return std::nullopt;
}

asio::io_context& io_threads::next() { return *impl_->contexts[impl_->turn++ % impl_->contexts.size()]; }

asio::io_context& io_threads::here_or_next() {
  if (auto i = current()) return *impl_->contexts[*i];
  return next();
}

}  // namespace sb::net
