#include <algorithm>
#include <mutex>

#include <hiredis/hiredis.h>

#include "actors/tool_loop.hpp"
#include "cluster/redis_connection.hpp"
#include "core/log.hpp"

namespace sb::actors {
namespace {

constexpr std::int64_t keep_after_expiry_ms = 60 * 60 * 1000;

class redis_store final : public confirmation_store {
 public:
  explicit redis_store(cluster::redis_endpoint ep) : conn_(std::move(ep), cluster::redis_options{}) {}

  bool put(const paused_loop& p) override {
    std::lock_guard lock(mutex_);
    auto px = std::to_string(std::max<std::int64_t>(1, p.expires_ms - p.created_ms + keep_after_expiry_ms));
    auto r = conn_.command({"SET", entry_key(p.id), p.to_json().dump(), "PX", px}, true);
    if (!r) return fail("put", r.error().to_string());
    auto z = conn_.command({"ZADD", list_key(p.workspace), std::to_string(p.expires_ms), p.id}, true);
    if (!z) return fail("put", z.error().to_string());
    conn_.command({"PEXPIRE", list_key(p.workspace), px}, true);
    return true;
  }

  std::variant<paused_loop, claim_error> claim(const std::string& id, const std::string& workspace,
                                               std::int64_t now_ms, paused_loop* expired) override {
    std::lock_guard lock(mutex_);
    auto g = conn_.command({"GET", entry_key(id)}, true);
    if (!g) return fail_claim(g.error().to_string());
    auto& reply = *g.value();
    if (reply.type != REDIS_REPLY_STRING) return claim_error::not_found;
    auto p = paused_loop::from_json(nlohmann::json::parse(std::string(reply.str, reply.len), nullptr, false));
    if (!p || p->workspace != workspace) return claim_error::not_found;
    auto used = conn_.command({"EXISTS", used_key(id)}, true);
    if (!used) return fail_claim(used.error().to_string());
    if (used.value()->type == REDIS_REPLY_INTEGER && used.value()->integer > 0) return claim_error::already_used;
    if (now_ms >= p->expires_ms) {
      if (expired) *expired = std::move(*p);
      return claim_error::expired;
    }
    auto px = std::to_string(p->expires_ms - now_ms + keep_after_expiry_ms);
    // The one decision point across nodes: only one SET NX succeeds.
    auto s = conn_.command({"SET", used_key(id), "1", "NX", "PX", px}, false);
    if (!s) return fail_claim(s.error().to_string());
    if (s.value()->type != REDIS_REPLY_STATUS) return claim_error::already_used;
    conn_.command({"ZREM", list_key(workspace), id}, true);
    return std::move(*p);
  }

  std::vector<paused_loop> pending(const std::string& workspace, std::int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    std::vector<paused_loop> out;
    conn_.command({"ZREMRANGEBYSCORE", list_key(workspace), "-inf", std::to_string(now_ms)}, true);
    auto ids = conn_.command({"ZRANGE", list_key(workspace), "0", "-1"}, true);
    if (!ids) {
      fail("list", ids.error().to_string());
      return out;
    }
    auto& arr = *ids.value();
    if (arr.type != REDIS_REPLY_ARRAY) return out;
    for (std::size_t i = 0; i < arr.elements; ++i) {
      std::string id(arr.element[i]->str, arr.element[i]->len);
      auto used = conn_.command({"EXISTS", used_key(id)}, true);
      if (!used || (used.value()->type == REDIS_REPLY_INTEGER && used.value()->integer > 0)) continue;
      auto g = conn_.command({"GET", entry_key(id)}, true);
      if (!g || g.value()->type != REDIS_REPLY_STRING) continue;
      auto p = paused_loop::from_json(
          nlohmann::json::parse(std::string(g.value()->str, g.value()->len), nullptr, false));
      if (p && p->workspace == workspace && now_ms < p->expires_ms) out.push_back(std::move(*p));
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.created_ms < b.created_ms; });
    return out;
  }

 private:
  static std::string entry_key(const std::string& id) { return "sb:tc:" + id; }
  static std::string used_key(const std::string& id) { return "sb:tc:" + id + ":used"; }
  static std::string list_key(const std::string& ws) { return "sb:tc:ws:" + ws; }
  static bool fail(const char* what, const std::string& why) {
    log::error(std::string("tool confirmations (Redis) ") + what + ": " + why);
    return false;
  }
  static claim_error fail_claim(const std::string& why) {
    fail("claim", why);
    return claim_error::unavailable;
  }
  std::mutex mutex_;
  cluster::redis_connection conn_;
};

}  // namespace

std::shared_ptr<confirmation_store> make_redis_confirmation_store(const std::string& redis_url) {
  auto ep = cluster::parse_redis_url(redis_url);
  if (!ep) return nullptr;
  return std::make_shared<redis_store>(std::move(ep.value()));
}

}  // namespace sb::actors
