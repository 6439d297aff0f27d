#include "actors/tool_loop.hpp"

#include <algorithm>
#include <random>

namespace sb::actors {

nlohmann::json paused_loop::summary() const {
  return {{"id", id},
          {"object", "tool_confirmation"},
          {"status", "pending"},
          {"tool", tool},
          {"tool_call_id", tool_call_id},
          {"arguments", arguments},
          {"created_at", created_ms / 1000},
          {"expires_at", expires_ms / 1000}};
}

nlohmann::json paused_loop::to_json() const {
  return {{"id", id},           {"workspace", workspace},   {"tool", tool},
          {"tool_call_id", tool_call_id}, {"arguments", arguments}, {"created_ms", created_ms},
          {"expires_ms", expires_ms}, {"state", state}};
}

std::optional<paused_loop> paused_loop::from_json(const nlohmann::json& j) {
  try {
    paused_loop p;
    p.id = j.at("id").get<std::string>();
    p.workspace = j.at("workspace").get<std::string>();
    p.tool = j.at("tool").get<std::string>();
    p.tool_call_id = j.at("tool_call_id").get<std::string>();
    p.arguments = j.at("arguments");
    p.created_ms = j.at("created_ms").get<std::int64_t>();
    p.expires_ms = j.at("expires_ms").get<std::int64_t>();
    p.state = j.at("state");
    return p;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::string new_confirmation_id() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   static_cast<std::uint64_t>(std::random_device{}()) << 32};
  static const char* hex = "0123456789abcdef";
  std::string id = "tc_";
  for (int i = 0; i < 2; ++i) {
    auto v = rng();
    for (int k = 0; k < 16; ++k) id += hex[(v >> (4 * k)) & 0xf];
  }
  return id;
}

namespace {

constexpr std::int64_t keep_after_expiry_ms = 60 * 60 * 1000;

class memory_store final : public confirmation_store {
 public:
  bool put(const paused_loop& p) override {
    std::lock_guard lock(mutex_);
    prune(p.created_ms);
    entries_[p.id] = entry{p, false};
    return true;
  }

  std::variant<paused_loop, claim_error> claim(const std::string& id, const std::string& workspace,
                                               std::int64_t now_ms, paused_loop* expired) override {
    std::lock_guard lock(mutex_);
    prune(now_ms);
    auto i = entries_.find(id);
    if (i == entries_.end() || i->second.loop.workspace != workspace) return claim_error::not_found;
    if (i->second.used) return claim_error::already_used;
    if (now_ms >= i->second.loop.expires_ms) {
      if (expired) *expired = i->second.loop;
      return claim_error::expired;
    }
    i->second.used = true;
    return i->second.loop;
  }

  std::vector<paused_loop> pending(const std::string& workspace, std::int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    std::vector<paused_loop> out;
    for (auto& [id, e] : entries_)
      if (!e.used && e.loop.workspace == workspace && now_ms < e.loop.expires_ms) out.push_back(e.loop);
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.created_ms < b.created_ms; });
    return out;
  }

 private:
  struct entry {
    paused_loop loop;
    bool used = false;
  };
  void prune(std::int64_t now_ms) {
    for (auto i = entries_.begin(); i != entries_.end();)
      i = now_ms > i->second.loop.expires_ms + keep_after_expiry_ms ? entries_.erase(i) : std::next(i);
  }
  std::mutex mutex_;
  std::map<std::string, entry> entries_;
};

}  // namespace

std::shared_ptr<confirmation_store> make_memory_confirmation_store() {
  return std::make_shared<memory_store>();
}

}  // namespace sb::actors
