#include "cluster/rollout_notifier.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>

#include "core/log.hpp"

namespace sb::cluster {
namespace {

// One script: the hash and the channel never disagree about the order of two
// PUTs made on two nodes at once.
constexpr const char* publish_script =
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
    "return redis.call('PUBLISH', KEYS[2], ARGV[1] .. '\\n' .. ARGV[2])";

timeval to_timeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

struct context_deleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using context_ptr = std::unique_ptr<redisContext, context_deleter>;

bool command_ok(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (auto& a : argv) args.push_back(a.data()), lens.push_back(a.size());
  redis_reply r(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data())));
  return r && r->type != REDIS_REPLY_ERROR;
}

}  // namespace

store_result<std::unique_ptr<rollout_notifier>> rollout_notifier::start(const std::string& redis_url,
                                                                        callback on_change,
                                                                        rollout_notifier_options options) {
  auto endpoint = parse_redis_url(redis_url);
  if (!endpoint) return endpoint.error();
  std::unique_ptr<rollout_notifier> n(new rollout_notifier(*endpoint, std::move(on_change), std::move(options)));
  n->thread_ = std::thread([p = n.get()] { p->run(); });
  return n;
}

rollout_notifier::rollout_notifier(redis_endpoint endpoint, callback on_change,
                                   rollout_notifier_options options)
    : endpoint_(std::move(endpoint)),
      on_change_(std::move(on_change)),
      options_(std::move(options)),
      publisher_(endpoint_, options_.redis) {}

rollout_notifier::~rollout_notifier() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

store_status rollout_notifier::publish(const std::string& name, const std::string& rollout_json) {
  std::lock_guard lock(publish_mutex_);
  // Idempotent: a retry after a lost reply re-records and re-announces the
  // same split, which every node applies as a no-op.
  auto r = publisher_.command({"EVAL", publish_script, "2", options_.hash, options_.channel, name, rollout_json},
                              true);
  if (!r) return r.error();
  return std::nullopt;
}

void rollout_notifier::deliver(const std::string& payload) {
  auto nl = payload.find('\n');
  if (nl == std::string::npos || nl == 0) {
    log::warn(options_.label + ": ignoring a malformed notification");
    return;
  }
  on_change_(payload.substr(0, nl), payload.substr(nl + 1));
}

void rollout_notifier::catch_up(redis_connection& conn) {
  auto r = conn.command({"HGETALL", options_.hash}, true);
  if (!r) {
    log::warn(options_.label + ": cannot read the cluster's latest state (" + r.error().to_string() +
              "); it applies on the next notification");
    return;
  }
  const redisReply* a = r->get();
  if (a->type != REDIS_REPLY_ARRAY) return;
  for (size_t i = 0; i + 1 < a->elements; i += 2)
    on_change_(std::string(a->element[i]->str, a->element[i]->len),
               std::string(a->element[i + 1]->str, a->element[i + 1]->len));
}

bool rollout_notifier::subscribe_and_listen() {
  auto tv = to_timeval(options_.redis.connect_timeout);
  context_ptr c(redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, tv));
  if (!c || c->err) return false;
  auto cmd_tv = to_timeval(options_.redis.command_timeout);
  redisSetTimeout(c.get(), cmd_tv);
  if (!endpoint_.password.empty() && !command_ok(c.get(), {"AUTH", endpoint_.password})) return false;
  // Channels ignore SELECT; the hash does not, and catch_up's connection
  // selects the db from the URL itself.
  if (!command_ok(c.get(), {"SUBSCRIBE", options_.channel})) return false;
  subscribed_ = true;
  // After SUBSCRIBE, so a PUT between the two is seen at least once.
  redis_connection reader(endpoint_, options_.redis);
  catch_up(reader);

  // poll() rather than a blocking read: the thread notices stop_ within
  // poll_interval without a read timeout, which would break the context.
  while (!stop_) {
    redisReply* raw = nullptr;
    if (redisGetReplyFromReader(c.get(), reinterpret_cast<void**>(&raw)) != REDIS_OK) return false;
    if (raw) {
      redis_reply reply(raw);
      if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
          std::string(reply->element[0]->str, reply->element[0]->len) == "message")
        deliver(std::string(reply->element[2]->str, reply->element[2]->len));
      continue;  // drain what is buffered before polling again
    }
    pollfd p{c->fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(options_.poll_interval.count()));
    if (n < 0) return false;
    if (n == 0) continue;
    if (redisBufferRead(c.get()) != REDIS_OK) return false;
  }
  return true;
}

void rollout_notifier::run() {
  bool warned = false;
  while (!stop_) {
    subscribe_and_listen();
    if (subscribed_.exchange(false)) warned = false;  // a new outage: say so once
    if (stop_) break;
    if (!warned) log::warn(options_.label + ": not subscribed to notifications in Redis; retrying");
    warned = true;
    // Sleep in small steps so a stop is not held up by the pause.
    for (auto waited = std::chrono::milliseconds(0); waited < options_.reconnect_pause && !stop_;
         waited += options_.poll_interval)
      std::this_thread::sleep_for(options_.poll_interval);
  }
}

}  // namespace sb::cluster
