#pragma once
// A responder that records switchboard_requests_total and the request
// duration when the answer is complete, whoever produced it.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "metrics/gateway_metrics.hpp"
#include "net/http_server.hpp"

namespace sb {

class observed_responder final : public net::responder {
 public:
  observed_responder(std::shared_ptr<net::responder> inner, gateway_metrics* metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}

  /// The workspace label, once authentication has named it.
  void set_workspace(std::string ws) {
    std::lock_guard lock(mutex_);
    workspace_ = std::move(ws);
  }

  // net::responder
  // Counted before the answer leaves, so that a client that reads /metrics
  // right after its answer sees itself counted.
  void respond(int status, net::header_list headers, std::string body) override {
    done(status);
    inner_->respond(status, std::move(headers), std::move(body));
  }
  void start_stream(int status, net::header_list headers) override {
    status_ = status;
    inner_->start_stream(status, std::move(headers));
  }
  void write(std::string data) override { inner_->write(std::move(data)); }
  void finish() override {
    done(status_);
    inner_->finish();
  }
  void on_client_gone(std::function<void()> fn) override {
    inner_->on_client_gone(std::move(fn));
  }
  [[nodiscard]] std::size_t pending_bytes() const override { return inner_->pending_bytes(); }

  ~observed_responder() override {
    // Never answered: the client left first (nginx's 499).
    done(499);
  }

 private:
  void done(int status) {
    if (recorded_.exchange(true)) return;
    std::string ws;
    {
      std::lock_guard lock(mutex_);
      ws = workspace_;
    }
    metrics_->request_finished(
        ws, status, std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  }

  std::shared_ptr<net::responder> inner_;
  gateway_metrics* metrics_;
  std::mutex mutex_;
  std::string workspace_ = "unknown";
  std::atomic<int> status_{200};
  std::atomic<bool> recorded_{false};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace sb
