#include "app/prompt_rollout_apply.hpp"

#include <mutex>

#include <nlohmann/json.hpp>

#include "core/log.hpp"

namespace sb {
namespace {
std::mutex writer;  // one rollout change at a time on this node
}  // namespace

prompts::maybe_error apply_rollout(live_snapshot<prompts::prompt_library>& live, const std::string& name,
                                   const prompts::rollout& r) {
  std::lock_guard lock(writer);
  auto current = live.get();
  if (auto* p = current->find(name); p && p->rollout_file && *p->rollout_file == r) return std::nullopt;
  auto next = current->with_rollout(name, r);
  if (!next) return next.error();
  if (auto e = prompts::write_rollout(current->dir(), name, r)) return e;
  live.set(next.value());
  return std::nullopt;
}

void apply_rollout_notification(live_snapshot<prompts::prompt_library>& live, const std::string& name,
                                const std::string& rollout_json) {
  auto doc = nlohmann::json::parse(rollout_json, nullptr, false);
  if (doc.is_discarded()) {
    log::warn("prompts: ignoring a rollout notification for '" + name + "' that is not JSON");
    return;
  }
  auto r = prompts::parse_rollout(doc);
  if (!r) {
    log::warn("prompts: ignoring a rollout notification for '" + name + "': " + r.error().message);
    return;
  }
  if (auto e = apply_rollout(live, name, r.value()))
    log::warn("prompts: cannot apply the cluster's rollout of '" + name + "' here (" + e->message +
              "); this node keeps its split");
  else
    log::info("prompts: rollout of '" + name + "' is now " + rollout_json);
}

}  // namespace sb
