#include "cluster/cooldown_notifier.hpp"

#include <hiredis/hiredis.h>

#include <nlohmann/json.hpp>

#include "core/log.hpp"

namespace sb::cluster {
namespace {

// The hash lives at least `ARGV[1]` ms more: never shortened by a shorter
// cooldown published after a longer one.
constexpr const char* extend_ttl_script =
    "local t = redis.call('PTTL', KEYS[1])\n"
    "if t < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end\n"
    "return 1";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string encode_key_cooldown(const key_cooldown& c) {
  return nlohmann::json{{"provider", c.provider},
                        {"key_id", c.key_id},
                        {"ready_at_ms", c.ready_at_ms},
                        {"invalid", c.invalid},
                        {"at_ms", c.at_ms}}
      .dump();
}

std::optional<key_cooldown> decode_key_cooldown(const std::string& payload) {
  auto j = nlohmann::json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    key_cooldown c;
    c.provider = j.at("provider").get<std::string>();
    c.key_id = j.at("key_id").get<std::string>();
    c.ready_at_ms = j.at("ready_at_ms").get<std::int64_t>();
    c.invalid = j.at("invalid").get<bool>();
    c.at_ms = j.value("at_ms", std::int64_t{0});
    if (c.provider.empty() || c.key_id.empty()) return std::nullopt;
    return c;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

store_result<std::unique_ptr<cooldown_notifier>> cooldown_notifier::start(const std::string& redis_url,
                                                                          callback on_cooldown,
                                                                          cooldown_notifier_options options) {
  auto endpoint = parse_redis_url(redis_url);
  if (!endpoint) return endpoint.error();
  std::unique_ptr<cooldown_notifier> n(new cooldown_notifier(*endpoint, std::move(options)));
  auto transport_options = n->options_.transport;
  transport_options.channel = n->options_.channel;
  transport_options.hash = n->options_.hash;
  transport_options.label = "key cooldowns";
  auto* self = n.get();
  auto t = rollout_notifier::start(
      redis_url,
      [self, on_cooldown = std::move(on_cooldown)](const std::string& field, const std::string& payload) {
        auto c = decode_key_cooldown(payload);
        if (!c) {
          log::warn("keys: ignoring a malformed cooldown notification for " + field);
          return;
        }
        if (self->live(*c, now_ms())) on_cooldown(*c);
      },
      transport_options);
  if (!t) return t.error();
  n->transport_ = std::move(t.value());
  n->publisher_ = std::thread([self] { self->run_publisher(); });
  return n;
}

cooldown_notifier::cooldown_notifier(redis_endpoint endpoint, cooldown_notifier_options options)
    : options_(std::move(options)), ttl_conn_(std::move(endpoint), options_.transport.redis) {}

cooldown_notifier::~cooldown_notifier() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (publisher_.joinable()) publisher_.join();
  transport_.reset();  // joins the subscriber before the callback's `this` goes
}

bool cooldown_notifier::live(const key_cooldown& c, std::int64_t now) const {
  if (c.invalid) return c.at_ms == 0 || now - c.at_ms < options_.invalid_ttl.count();
  return c.ready_at_ms > now;
}

void cooldown_notifier::publish(key_cooldown c) {
  c.at_ms = now_ms();
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(c));
  }
  cv_.notify_one();
}

bool cooldown_notifier::send(const key_cooldown& c) {
  auto ttl = c.invalid ? options_.invalid_ttl.count() : c.ready_at_ms - now_ms();
  if (ttl <= 0) return true;  // over before it could be told
  if (auto e = transport_->publish(c.provider + "/" + c.key_id, encode_key_cooldown(c))) {
    if (!warned_)
      log::warn("keys: cannot tell the cluster that " + c.key_id + " is " + (c.invalid ? "invalid" : "cooling") +
                " (" + e->to_string() + "); other nodes learn it from their own upstream answers");
    warned_ = true;
    return false;
  }
  auto r = ttl_conn_.command({"EVAL", extend_ttl_script, "1", options_.hash, std::to_string(ttl + 1000)}, true);
  if (!r && !warned_) {
    log::warn("keys: cannot extend the TTL of " + options_.hash + " (" + r.error().to_string() + ")");
    warned_ = true;
    return false;
  }
  if (warned_) log::info("keys: telling the cluster about cooldowns again");
  warned_ = false;
  return true;
}

void cooldown_notifier::run_publisher() {
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    auto c = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    send(c);  // not retried: a lost record costs other nodes one 429 each
    lock.lock();
  }
}

}  // namespace sb::cluster
