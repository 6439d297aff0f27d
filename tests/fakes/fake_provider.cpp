#include "tests/fakes/fake_provider.hpp"

#include "tests/fakes/fake_server.hpp"
#include "tests/fakes/provider_state.hpp"

namespace sb::fakes {

fake_provider::fake_provider(fake_options options)
    : state_(std::make_shared<provider_state>(std::move(options))),
      server_(std::make_unique<fake_server>(state_)),
      tls_(!state_->options().tls_cert_file.empty()) {}

fake_provider::~fake_provider() { stop(); }

unsigned short fake_provider::port() const { return server_->port(); }

std::string fake_provider::base_url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
}

void fake_provider::stop() { server_->stop(); }

void fake_provider::script(scripted_reply reply) { state_->push_script(std::move(reply)); }

void fake_provider::script_for_key(std::string api_key, scripted_reply reply) {
  state_->push_script_for_key(std::move(api_key), std::move(reply));
}

std::vector<recorded_request> fake_provider::received() const { return state_->received(); }
std::size_t fake_provider::request_count() const { return state_->request_count(); }
bool fake_provider::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  return state_->wait_for_requests(n, timeout);
}

std::uint64_t fake_provider::connections_accepted() const { return state_->connections_accepted(); }
std::uint64_t fake_provider::open_connections() const { return state_->open_connections(); }
std::uint64_t fake_provider::connections_closed() const { return state_->connections_closed(); }

std::optional<fake_provider::clock::time_point> fake_provider::last_close_time() const {
  return state_->last_close_time();
}
std::optional<fake_provider::clock::time_point> fake_provider::close_time(std::uint64_t connection_id) const {
  return state_->close_time(connection_id);
}
std::optional<fake_provider::clock::time_point> fake_provider::wait_for_close(
    std::uint64_t connection_id, std::chrono::milliseconds timeout) const {
  return state_->wait_for_close(connection_id, timeout);
}
std::optional<fake_provider::clock::time_point> fake_provider::wait_for_close_after(
    clock::time_point since, std::chrono::milliseconds timeout) const {
  return state_->wait_for_close_after(since, timeout);
}

void fake_provider::reset() { state_->reset(); }

}  // namespace sb::fakes
