#include "tests/fakes/provider_state.hpp"

namespace sb::fakes {

provider_state::provider_state(fake_options options) : options_(std::move(options)) {}

void provider_state::push_script(scripted_reply reply) {
  std::lock_guard lock(mutex_);
  scripts_.push_back(std::move(reply));
}

void provider_state::push_script_for_key(std::string api_key, scripted_reply reply) {
  std::lock_guard lock(mutex_);
  key_scripts_[std::move(api_key)].push_back(std::move(reply));
}

std::optional<scripted_reply> provider_state::take_script(const std::string& api_key) {
  std::lock_guard lock(mutex_);
  auto it = key_scripts_.find(api_key);
  if (it != key_scripts_.end() && !it->second.empty()) {
    scripted_reply reply = std::move(it->second.front());
    it->second.pop_front();
    return reply;
  }
  if (scripts_.empty()) return std::nullopt;
  scripted_reply reply = std::move(scripts_.front());
  scripts_.pop_front();
  return reply;
}

void provider_state::record(recorded_request request) {
  {
    std::lock_guard lock(mutex_);
    ++request_count_;
    if (options_.record_requests) received_.push_back(std::move(request));
  }
  changed_.notify_all();
}

std::vector<recorded_request> provider_state::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::size_t provider_state::request_count() const {
  std::lock_guard lock(mutex_);
  return request_count_;
}

bool provider_state::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return request_count_ >= n; });
}

std::uint64_t provider_state::on_accept() {
  std::lock_guard lock(mutex_);
  ++accepted_;
  ++open_;
  return next_connection_id_++;
}

void provider_state::on_close(std::uint64_t connection_id, clock::time_point when) {
  {
    std::lock_guard lock(mutex_);
    if (open_ > 0) --open_;
    close_times_[connection_id] = when;
    last_close_ = when;
  }
  changed_.notify_all();
}

std::uint64_t provider_state::connections_accepted() const {
  std::lock_guard lock(mutex_);
  return accepted_;
}

std::uint64_t provider_state::open_connections() const {
  std::lock_guard lock(mutex_);
  return open_;
}

std::uint64_t provider_state::connections_closed() const {
  std::lock_guard lock(mutex_);
  return close_times_.size();
}

std::optional<provider_state::clock::time_point> provider_state::last_close_time() const {
  std::lock_guard lock(mutex_);
  return last_close_;
}

std::optional<provider_state::clock::time_point> provider_state::close_time(std::uint64_t connection_id) const {
  std::lock_guard lock(mutex_);
  auto it = close_times_.find(connection_id);
  if (it == close_times_.end()) return std::nullopt;
  return it->second;
}

std::optional<provider_state::clock::time_point> provider_state::wait_for_close(
    std::uint64_t connection_id, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return close_times_.count(connection_id) > 0; });
  auto it = close_times_.find(connection_id);
  if (it == close_times_.end()) return std::nullopt;
  return it->second;
}

std::optional<provider_state::clock::time_point> provider_state::first_close_after(clock::time_point since) const {
  std::optional<clock::time_point> first;
  for (const auto& [id, when] : close_times_)
    if (when >= since && (!first || when < *first)) first = when;
  return first;
}

std::optional<provider_state::clock::time_point> provider_state::wait_for_close_after(
    clock::time_point since, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return first_close_after(since).has_value(); });
  return first_close_after(since);
}

std::uint64_t provider_state::next_serial() {
  std::lock_guard lock(mutex_);
  return ++serial_;
}

void provider_state::reset() {
  std::lock_guard lock(mutex_);
  scripts_.clear();
  key_scripts_.clear();
  received_.clear();
  request_count_ = 0;
  accepted_ = 0;
  close_times_.clear();
  last_close_.reset();
}

}  // namespace sb::fakes
