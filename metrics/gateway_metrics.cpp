#include "metrics/gateway_metrics.hpp"

#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace sb {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// Latencies of an LLM gateway span milliseconds (errors, cache hits) to
// minutes (long generations): buckets wide enough for both.
const prometheus::Histogram::BucketBoundaries& latency_buckets() {
  static const prometheus::Histogram::BucketBoundaries b{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
  return b;
}

constexpr std::array<const char*, 4> key_states{"ready", "cooling", "invalid", "quota_exhausted"};

using label = std::pair<const char*, const std::string&>;

/// Family::Add builds a label map and hashes it on every call (~3,000
/// instructions, several per request); the per-request metrics look their
/// child up here instead. Children live as long as their family.
template <class Metric>
class child_cache {
 public:
  template <class... Extra>
  Metric& get(prometheus::Family<Metric>& family, std::initializer_list<label> labels, const Extra&... extra) {
    // Length-prefixed, so that no two label sets share a key. Built in a
    // buffer kept per thread: this runs several times per request, and a
    // fresh string would allocate each time.
    thread_local std::string key;
    key.clear();
    for (auto& [name, value] : labels) {
      const auto n = static_cast<std::uint32_t>(value.size());
      key.append(reinterpret_cast<const char*>(&n), sizeof n);
      key += value;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (auto it = children_.find(key); it != children_.end()) return *it->second;
    }
    prometheus::Labels map;
    for (auto& [name, value] : labels) map.emplace(name, value);
    auto& child = family.Add(map, extra...);
    std::lock_guard<std::mutex> lock(mutex_);
    children_.emplace(key, &child);
    return child;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, Metric*> children_;
};

const std::string prompt_kind = "prompt";
const std::string completion_kind = "completion";

}  // namespace

struct gateway_metrics::impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

  prometheus::Family<prometheus::Counter>& requests =
      BuildCounter().Name("switchboard_requests_total")
          .Help("Client requests answered, by workspace and HTTP status.").Register(*registry);
  prometheus::Family<prometheus::Histogram>& request_duration =
      BuildHistogram().Name("switchboard_request_duration_seconds")
          .Help("Time from a client request's arrival to its last byte.").Register(*registry);
  prometheus::Histogram& request_duration_all = request_duration.Add({}, latency_buckets());
  prometheus::Family<prometheus::Counter>& attempts =
      BuildCounter().Name("switchboard_upstream_attempts_total")
          .Help("Upstream calls, by provider, model, key and outcome.").Register(*registry);
  prometheus::Family<prometheus::Histogram>& upstream_latency_f =
      BuildHistogram().Name("switchboard_upstream_latency_seconds")
          .Help("Duration of upstream calls, by provider.").Register(*registry);
  prometheus::Family<prometheus::Histogram>& ttft =
      BuildHistogram().Name("switchboard_time_to_first_token_seconds")
          .Help("Time from a streamed request's arrival to its first content chunk.")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& tokens_f =
      BuildCounter().Name("switchboard_tokens_total")
          .Help("Tokens metered, by workspace, provider, model and kind (prompt|completion).")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& cost_f =
      BuildCounter().Name("switchboard_cost_usd_total")
          .Help("Estimated cost in US dollars, by workspace and provider.").Register(*registry);
  prometheus::Family<prometheus::Gauge>& key_state_f =
      BuildGauge().Name("switchboard_key_state")
          .Help("1 for the state each API key is in, 0 for the others.").Register(*registry);
  prometheus::Family<prometheus::Counter>& credential_errors =
      BuildCounter().Name("switchboard_credential_errors_total")
          .Help("Upstream 401/403 answers that marked a key invalid.").Register(*registry);
  prometheus::Family<prometheus::Counter>& quota_rejections =
      BuildCounter().Name("switchboard_quota_rejections_total")
          .Help("Requests refused because the workspace's monthly cap was reached.")
          .Register(*registry);
  prometheus::Gauge& active_streams =
      BuildGauge().Name("switchboard_active_streams")
          .Help("Streamed responses in progress.").Register(*registry).Add({});
  prometheus::Family<prometheus::Counter>& unpriced =
      BuildCounter().Name("switchboard_unpriced_calls_total")
          .Help("Upstream calls billed 0 because their model has no price (set `prices`).")
          .Register(*registry);
  prometheus::Gauge& ledger_buffered =
      BuildGauge().Name("switchboard_ledger_buffered_rows")
          .Help("Usage rows waiting to be written (grows while the database is down).")
          .Register(*registry).Add({});
  prometheus::Gauge& ledger_written =
      BuildGauge().Name("switchboard_ledger_written_rows")
          .Help("Usage rows written by this node since it started.").Register(*registry).Add({});
  prometheus::Gauge& ledger_dropped =
      BuildGauge().Name("switchboard_ledger_dropped_rows")
          .Help("Usage rows lost since start (backlog full, or shutdown with the database down).")
          .Register(*registry).Add({});
  prometheus::Gauge& ledger_failed_flushes =
      BuildGauge().Name("switchboard_ledger_failed_flushes")
          .Help("Ledger writes the database refused since start.").Register(*registry).Add({});
  prometheus::Gauge& quota_pending =
      BuildGauge().Name("switchboard_quota_pending_settles")
          .Help("Quota settles waiting for the quota store (Redis down).").Register(*registry).Add({});
  prometheus::Gauge& quota_unavailable =
      BuildGauge().Name("switchboard_quota_unavailable_reservations")
          .Help("Capped requests refused since start because the quota store was unreachable.")
          .Register(*registry).Add({});
  std::function<store_counters()> read_stores;
  child_cache<prometheus::Counter> requests_c, attempts_c, tokens_c, cost_c, unpriced_c;
  child_cache<prometheus::Histogram> upstream_latency_c, ttft_c;
  std::mutex read_mutex;
  prometheus::Counter& cancellations =
      BuildCounter().Name("switchboard_upstream_cancellations_total")
          .Help("Upstream calls closed because the client went away.").Register(*registry).Add({});
  prometheus::Counter& slow_client_drops =
      BuildCounter().Name("switchboard_slow_client_drops_total")
          .Help("Streams cut because the client read too slowly (back-pressure bound).")
          .Register(*registry).Add({});
};

gateway_metrics::gateway_metrics() : impl_(std::make_unique<impl>()) {}
gateway_metrics::~gateway_metrics() = default;

void gateway_metrics::declare_key(const std::string& provider, const std::string& key_id) {
  key_state(provider, key_id, "ready");
  impl_->credential_errors.Add({{"provider", provider}, {"key_id", key_id}});
}

void gateway_metrics::declare_workspace(const std::string& workspace,
                                        const std::vector<std::string>& providers) {
  impl_->quota_rejections.Add({{"workspace", workspace}});
  for (auto& p : providers) impl_->cost_f.Add({{"workspace", workspace}, {"provider", p}});
}

void gateway_metrics::request_finished(const std::string& workspace, int status, double seconds) {
  impl_->requests_c.get(impl_->requests, {{"workspace", workspace}, {"status", std::to_string(status)}})
      .Increment();
  impl_->request_duration_all.Observe(seconds);
}

void gateway_metrics::upstream_attempt(const std::string& provider, const std::string& model,
                                       const std::string& key_id, const std::string& outcome) {
  impl_->attempts_c
      .get(impl_->attempts, {{"provider", provider}, {"model", model}, {"key_id", key_id}, {"outcome", outcome}})
      .Increment();
}

void gateway_metrics::upstream_latency(const std::string& provider, double seconds) {
  impl_->upstream_latency_c.get(impl_->upstream_latency_f, {{"provider", provider}}, latency_buckets())
      .Observe(seconds);
}

void gateway_metrics::time_to_first_token(const std::string& provider, double seconds) {
  impl_->ttft_c.get(impl_->ttft, {{"provider", provider}}, latency_buckets()).Observe(seconds);
}

void gateway_metrics::tokens(const std::string& workspace, const std::string& provider,
                             const std::string& model, std::int64_t prompt,
                             std::int64_t completion) {
  auto& d = *impl_;
  d.tokens_c.get(d.tokens_f, {{"workspace", workspace}, {"provider", provider}, {"model", model}, {"kind", prompt_kind}})
      .Increment(static_cast<double>(prompt));
  d.tokens_c.get(d.tokens_f, {{"workspace", workspace}, {"provider", provider}, {"model", model}, {"kind", completion_kind}})
      .Increment(static_cast<double>(completion));
}

void gateway_metrics::cost(const std::string& workspace, const std::string& provider, double usd) {
  impl_->cost_c.get(impl_->cost_f, {{"workspace", workspace}, {"provider", provider}}).Increment(usd);
}

void gateway_metrics::key_state(const std::string& provider, const std::string& key_id,
                                const std::string& state) {
  for (const char* s : key_states)
    impl_->key_state_f.Add({{"provider", provider}, {"key_id", key_id}, {"state", s}})
        .Set(state == s ? 1.0 : 0.0);
}

void gateway_metrics::credential_error(const std::string& provider, const std::string& key_id) {
  impl_->credential_errors.Add({{"provider", provider}, {"key_id", key_id}}).Increment();
}

void gateway_metrics::quota_rejection(const std::string& workspace) {
  impl_->quota_rejections.Add({{"workspace", workspace}}).Increment();
}

void gateway_metrics::stream_started() { impl_->active_streams.Increment(); }
void gateway_metrics::stream_ended() { impl_->active_streams.Decrement(); }
void gateway_metrics::upstream_cancelled() { impl_->cancellations.Increment(); }
void gateway_metrics::slow_client_dropped() { impl_->slow_client_drops.Increment(); }

void gateway_metrics::unpriced_call(const std::string& provider, const std::string& model) {
  impl_->unpriced_c.get(impl_->unpriced, {{"provider", provider}, {"model", model}}).Increment();
}

void gateway_metrics::on_collect(std::function<store_counters()> read) {
  std::lock_guard lock(impl_->read_mutex);
  impl_->read_stores = std::move(read);
}

std::string gateway_metrics::serialize() const {
  {
    std::lock_guard lock(impl_->read_mutex);
    if (impl_->read_stores) {
      auto c = impl_->read_stores();
      impl_->ledger_buffered.Set(static_cast<double>(c.ledger_buffered));
      impl_->ledger_written.Set(static_cast<double>(c.ledger_written));
      impl_->ledger_dropped.Set(static_cast<double>(c.ledger_dropped));
      impl_->ledger_failed_flushes.Set(static_cast<double>(c.ledger_failed_flushes));
      impl_->quota_pending.Set(static_cast<double>(c.quota_pending_settles));
      impl_->quota_unavailable.Set(static_cast<double>(c.quota_unavailable));
    }
  }
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace sb
