#include "cluster/redis_connection.hpp"

#include <hiredis/hiredis.h>

#include <sys/time.h>

namespace sb::cluster {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace

void redis_reply_deleter::operator()(redisReply* r) const {
  if (r) freeReplyObject(r);
}

store_result<redis_endpoint> parse_redis_url(const std::string& url) {
  const std::string scheme = "redis://";
  if (url.rfind(scheme, 0) != 0)
    return make_store_error(store_errc::bad_url, "REDIS_URL must start with redis://: " + url);
  redis_endpoint ep;
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) {
    std::string db = rest.substr(slash + 1);
    if (!db.empty()) {
      if (db.find_first_not_of("0123456789") != std::string::npos || db.size() > 4)
        return make_store_error(store_errc::bad_url, "REDIS_URL database must be a number: " + db);
      ep.db = std::stoi(db);
    }
  }
  auto at = authority.rfind('@');
  if (at != std::string::npos) {
    auto userinfo = authority.substr(0, at);
    auto colon = userinfo.find(':');
    // hiredis 0.14 has no ACL users: only the password part is used.
    ep.password = colon == std::string::npos ? userinfo : userinfo.substr(colon + 1);
    authority = authority.substr(at + 1);
  }
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    auto port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) > 65535 || std::stoi(port) == 0)
      return make_store_error(store_errc::bad_url, "REDIS_URL port is not a port: " + port);
    ep.port = static_cast<std::uint16_t>(std::stoi(port));
    authority = authority.substr(0, colon);
  }
  if (!authority.empty()) ep.host = authority;
  return ep;
}

redis_connection::redis_connection(redis_endpoint endpoint, redis_options options)
    : endpoint_(std::move(endpoint)), options_(options) {}

redis_connection::~redis_connection() { drop(); }

void redis_connection::drop() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

store_status redis_connection::connect() {
  auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_)
    return make_store_error(store_errc::unavailable, "redis: reconnect paused after a failure");
  next_attempt_ = now + options_.reconnect_pause;
  ctx_ = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port,
                                 to_timeval(options_.connect_timeout));
  if (!ctx_ || ctx_->err) {
    std::string msg = ctx_ ? ctx_->errstr : "out of memory";
    drop();
    return make_store_error(store_errc::unavailable, "redis connect " + endpoint_.host + ":" +
                                                         std::to_string(endpoint_.port) + ": " + msg);
  }
  redisSetTimeout(ctx_, to_timeval(options_.command_timeout));
  redisEnableKeepAlive(ctx_);
  auto setup = [this](std::vector<std::string> argv) -> store_status {
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (auto& a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    redis_reply r(static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(args.size()), args.data(), lens.data())));
    if (!r) return make_store_error(store_errc::unavailable, std::string("redis: ") + ctx_->errstr);
    if (r->type == REDIS_REPLY_ERROR)
      return make_store_error(store_errc::query_failed, "redis " + argv[0] + ": " + r->str);
    return std::nullopt;
  };
  if (!endpoint_.password.empty())
    if (auto e = setup({"AUTH", endpoint_.password})) {
      drop();
      return e;
    }
  if (endpoint_.db != 0)
    if (auto e = setup({"SELECT", std::to_string(endpoint_.db)})) {
      drop();
      return e;
    }
  next_attempt_ = {};
  return std::nullopt;
}

store_result<redis_reply> redis_connection::command(const std::vector<std::string>& argv,
                                                    bool idempotent) {
  const bool reused = ctx_ != nullptr;
  auto r = command_once(argv);
  if (!r && r.error().code == store_errc::unavailable && reused && idempotent) {
    next_attempt_ = {};  // the old socket died; the server may well be back
    return command_once(argv);
  }
  return r;
}

store_result<redis_reply> redis_connection::command_once(const std::vector<std::string>& argv) {
  if (!ctx_)
    if (auto e = connect()) return *e;
  std::vector<const char*> args;
  std::vector<size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  redis_reply r(static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(args.size()), args.data(), lens.data())));
  if (!r) {
    // I/O error or timeout: the connection's state is unknown; start over.
    std::string msg = ctx_->errstr;
    drop();
    next_attempt_ = std::chrono::steady_clock::now() + options_.reconnect_pause;
    return make_store_error(store_errc::unavailable, "redis: " + msg);
  }
  if (r->type == REDIS_REPLY_ERROR) {
    std::string msg(r->str, r->len);
    // A server that is starting or failing over: a passing state, not our bug.
    bool passing = msg.rfind("LOADING", 0) == 0 || msg.rfind("BUSY", 0) == 0 ||
                   msg.rfind("MASTERDOWN", 0) == 0 || msg.rfind("TRYAGAIN", 0) == 0;
    return make_store_error(passing ? store_errc::unavailable : store_errc::query_failed,
                            "redis " + (argv.empty() ? std::string() : argv[0]) + ": " + msg);
  }
  return r;
}

}  // namespace sb::cluster
