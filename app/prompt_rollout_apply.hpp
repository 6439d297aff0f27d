#pragma once
// One way to change a prompt's split on this node, for the admin PUT and for
// a notification from another node (cluster/rollout_notifier): validate
// against the live snapshot, write rollout.json atomically, swap the
// snapshot. Serialised by one mutex, so a PUT and a notification never lose
// each other's read-modify-write.

#include <string>

#include "core/live_snapshot.hpp"
#include "prompts/prompt_library.hpp"

namespace sb {

/// Applies `r` to prompt `name`. A split equal to the file's is a no-op (a
/// node hears its own notifications). Errors: those of with_rollout (404,
/// 400) and write_rollout (500).
prompts::maybe_error apply_rollout(live_snapshot<prompts::prompt_library>& live, const std::string& name,
                                   const prompts::rollout& r);

/// The notifier's callback: parses `rollout_json`, applies it, logs what
/// failed (a node whose files lack the version keeps its split and says so).
void apply_rollout_notification(live_snapshot<prompts::prompt_library>& live, const std::string& name,
                                const std::string& rollout_json);

}  // namespace sb
