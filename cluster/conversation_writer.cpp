#include "cluster/conversation_writer.hpp"

#include <algorithm>
#include <thread>

namespace sb::cluster {

conversation_writer::conversation_writer(std::shared_ptr<conversation_store> store,
                                         conversation_writer_options options)
    : store_(std::move(store)), options_(options) {}

std::string conversation_writer::id_of(const message_key& key) {
  // '\n' cannot hide inside an id boundary: ids are compared whole.
  return key.workspace_id + '\n' + key.conversation_id + '\n' + key.message_id;
}

bool conversation_writer::failed(const store_error& e, clock::time_point now) {
  ++counters_.failed_writes;
  counters_.last_error = e.to_string();
  if (e.code != store_errc::unavailable) {
    // The store understood and refused (bad input, a constraint): a retry
    // would be refused again.
    ++counters_.dropped;
    return false;
  }
  pause_ = pause_.count() == 0 ? options_.first_pause : std::min(pause_ * 2, options_.max_pause);
  paused_until_ = now + pause_;
  return true;
}

void conversation_writer::succeeded() {
  ++counters_.writes;
  pause_ = std::chrono::milliseconds(0);
  counters_.last_error.clear();
}

bool conversation_writer::due(const reply& r, clock::time_point now) const {
  if (r.restart || (r.finished && r.dirty)) return true;
  return r.dirty && now - r.last_write >= options_.persist_every;
}

// Returns false only when the store is unreachable; a refused write is
// dropped (counted) and reported as done, so the caller moves on.
bool conversation_writer::write(reply& r, clock::time_point now) {
  if (r.restart) {
    if (auto e = store_->start_assistant_message(r.key, r.origin, r.initial)) {
      if (failed(*e, now)) return false;
      r.dirty = r.restart = false;
      r.finished = true;  // given up: let persist() forget it
      return true;
    }
    succeeded();
    r.restart = false;
    r.stored = true;
    r.initial.clear();
  }
  if (r.dirty) {
    auto status = r.finished ? r.status : message_status::in_progress;
    if (auto e = store_->update_assistant_content(r.key, r.content, status)) {
      if (failed(*e, now)) return false;
      r.finished = true;
    } else {
      succeeded();
    }
    r.dirty = false;
  }
  r.last_write = now;
  return true;
}

bool conversation_writer::write(const user_message& u, clock::time_point now) {
  if (auto e = store_->append_user_message(u.key, u.content, u.request_id)) return !failed(*e, now);
  succeeded();
  return true;
}

void conversation_writer::log_user(const message_key& key, std::string content,
                                   std::string request_id, clock::time_point now) {
  if (pending() >= options_.max_pending) {
    ++counters_.dropped;
    return;
  }
  user_message u{key, std::move(content), std::move(request_id)};
  // Behind earlier ones that wait: seqs follow the order messages came in.
  if (users_.empty() && !paused(now) && write(u, now)) return;
  users_.push_back(std::move(u));
}

void conversation_writer::start_reply(const message_key& key, message_origin origin,
                                      std::string initial_content, clock::time_point now) {
  auto id = id_of(key);
  auto it = replies_.find(id);
  if (it == replies_.end()) {
    if (pending() >= options_.max_pending) {
      ++counters_.dropped;
      return;
    }
    it = replies_.emplace(id, reply{}).first;
    it->second.key = key;
    // A resume that did not pass the stored text: start from it anyway, or
    // the first update would replace it by the continuation alone.
    if (initial_content.empty() && !paused(now)) {
      auto stored = store_->get_message(key);
      if (stored && stored->has_value()) it->second.content = (*stored)->content;
    }
  }
  auto& r = it->second;
  r.origin = std::move(origin);
  if (!initial_content.empty()) r.content = initial_content;
  r.initial = std::move(initial_content);
  r.status = message_status::in_progress;
  r.finished = false;
  r.restart = true;
  persist(now);
}

void conversation_writer::add_text(const message_key& key, const std::string& text,
                                   clock::time_point now) {
  auto id = id_of(key);
  auto it = replies_.find(id);
  if (it == replies_.end()) {
    // No start seen: write one with an empty origin rather than lose the text.
    start_reply(key, {}, {}, now);
    it = replies_.find(id);
    if (it == replies_.end()) return;  // dropped (full) or given up
  }
  it->second.content += text;
  it->second.dirty = true;
  if (due(it->second, now) && !paused(now)) persist(now);
}

void conversation_writer::finish_reply(const message_key& key, message_status status,
                                       clock::time_point now) {
  auto id = id_of(key);
  if (replies_.find(id) == replies_.end()) start_reply(key, {}, {}, now);
  auto it = replies_.find(id);
  if (it == replies_.end()) return;
  it->second.status = status;
  it->second.finished = true;
  it->second.dirty = true;
  persist(now);
}

void conversation_writer::persist(clock::time_point now, bool force) {
  if (paused(now) && !force) return;
  // User messages first: a reply's row must not take a seq before its question.
  while (!users_.empty()) {
    if (!write(users_.front(), now)) return;
    users_.pop_front();
  }
  for (auto it = replies_.begin(); it != replies_.end();) {
    auto& r = it->second;
    if (force || due(r, now)) {
      if (!write(r, now)) return;
    }
    if (r.finished && !r.dirty && !r.restart) it = replies_.erase(it);
    else ++it;
  }
}

std::optional<conversation_writer::clock::time_point> conversation_writer::next_due() const {
  std::optional<clock::time_point> next;
  auto consider = [&](clock::time_point t) {
    if (!next || t < *next) next = t;
  };
  if (!users_.empty()) consider(clock::time_point{});
  for (const auto& [id, r] : replies_) {
    if (r.restart || (r.finished && r.dirty)) consider(clock::time_point{});
    else if (r.dirty) consider(r.last_write + options_.persist_every);
  }
  if (next && *next < paused_until_) next = paused_until_;
  return next;
}

void conversation_writer::drain(clock::time_point deadline) {
  for (auto& [id, r] : replies_) {
    if (r.finished) continue;
    r.status = message_status::partial;
    r.finished = true;
    r.dirty = true;
  }
  while (pending() > 0) {
    auto now = clock::now();
    persist(now, /*force=*/true);
    if (pending() == 0) return;
    if (now >= deadline) {
      counters_.dropped += pending();
      replies_.clear();
      users_.clear();
      return;
    }
    std::this_thread::sleep_for(std::min<clock::duration>(deadline - now, options_.first_pause));
  }
}

void conversation_writer::overlay(stored_message& m, const message_key& key) const {
  auto it = replies_.find(id_of(key));
  if (it == replies_.end()) return;
  m.content = it->second.content;
  m.status = it->second.finished ? it->second.status : message_status::in_progress;
}

void conversation_writer::overlay(conversation_record& c) const {
  if (replies_.empty()) return;
  for (auto& m : c.messages)
    overlay(m, {c.workspace_id, c.conversation_id, m.message_id});
}

}  // namespace sb::cluster
