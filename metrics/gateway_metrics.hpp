#pragma once
// The gateway's Prometheus metrics (SPEC section 10), named once. Callers see
// verbs, not prometheus-cpp types; every method is thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sb {

class gateway_metrics {
 public:
  gateway_metrics();
  ~gateway_metrics();
  gateway_metrics(const gateway_metrics&) = delete;
  gateway_metrics& operator=(const gateway_metrics&) = delete;

  /// Creates the zero-valued series of a configured key and workspace, so
  /// that dashboards and alerts see them before the first event.
  void declare_key(const std::string& provider, const std::string& key_id);
  void declare_workspace(const std::string& workspace, const std::vector<std::string>& providers);

  /// A client request answered (status is the HTTP status, or 499 when the
  /// client left first).
  void request_finished(const std::string& workspace, int status, double seconds);
  /// One upstream attempt and how it ended: ok, rate_limited, out_of_credit,
  /// server_error, auth_invalid, target_unavailable, client_error, network, cancelled.
  void upstream_attempt(const std::string& provider, const std::string& model,
                        const std::string& key_id, const std::string& outcome);
  void upstream_latency(const std::string& provider, double seconds);
  void time_to_first_token(const std::string& provider, double seconds);
  void tokens(const std::string& workspace, const std::string& provider,
              const std::string& model, std::int64_t prompt, std::int64_t completion);
  void cost(const std::string& workspace, const std::string& provider, double usd);
  /// Sets the key's one-hot state gauge: 1 for `state`, 0 for the others.
  void key_state(const std::string& provider, const std::string& key_id, const std::string& state);
  void credential_error(const std::string& provider, const std::string& key_id);
  void quota_rejection(const std::string& workspace);
  void stream_started();
  void stream_ended();
  void upstream_cancelled();
  /// A stream cut because its client left more than the bound unread.
  void slow_client_dropped();

  /// A call whose model has no price: it is billed 0, which ops must see.
  void unpriced_call(const std::string& provider, const std::string& model);
  /// The metering stores' health, read from their actors' counters at scrape
  /// time: rows waiting for the database, rows lost, settles waiting for Redis.
  struct store_counters {
    std::uint64_t ledger_buffered = 0;
    std::uint64_t ledger_written = 0;
    std::uint64_t ledger_dropped = 0;
    std::uint64_t ledger_failed_flushes = 0;
    std::uint64_t quota_pending_settles = 0;
    std::uint64_t quota_unavailable = 0;
  };
  /// Called before each serialize() to refresh those gauges.
  void on_collect(std::function<store_counters()> read);

  /// The text exposition format 0.0.4 of every metric.
  [[nodiscard]] std::string serialize() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sb
