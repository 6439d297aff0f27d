// SPEC 9's tool loop when the client streams (ADR-0013): every round is
// streamed upstream; its content goes to the client as it arrives, while
// its tool-call deltas, finish and usage are held until the round ends. Then
// either the gateway runs the calls and the next round continues the same
// client stream, or the loop ends and the held chunks go out.
#include <nlohmann/json.hpp>

#include "actors/session_state.hpp"

namespace sb::actors::session {

namespace {

using round_state = session_state::tool_round;

bool non_empty_string(const nlohmann::json& j, const char* key) {
  auto v = j.find(key);
  return v != j.end() && v->is_string() && !v->get_ref<const std::string&>().empty();
}

/// Folds one chunk's tool_calls deltas (OpenAI shape: index, then id and
/// name once, arguments in pieces) into the round's whole calls.
void assemble(nlohmann::json& calls, const nlohmann::json& deltas, std::int64_t& chars) {
  for (auto& d : deltas) {
    if (!d.is_object()) continue;
    auto index = d.value("index", static_cast<std::size_t>(calls.size()));
    while (calls.size() <= index)
      calls.push_back({{"id", ""}, {"type", "function"}, {"function", {{"name", ""}, {"arguments", ""}}}});
    auto& call = calls[index];
    if (non_empty_string(d, "id")) call["id"] = d["id"];
    auto f = d.find("function");
    if (f == d.end() || !f->is_object()) continue;
    if (non_empty_string(*f, "name")) call["function"]["name"] = (*f)["name"];
    if (auto a = f->find("arguments"); a != f->end()) {
      auto piece = a->is_string() ? a->get<std::string>() : a->is_null() ? std::string() : a->dump();
      chars += static_cast<std::int64_t>(piece.size());  // for a cut-short stream's estimate
      call["function"]["arguments"] = call["function"]["arguments"].get<std::string>() + piece;
    }
  }
}

/// Wraps the adapter's decoder for one attempt of a streamed loop round.
class loop_round_decoder final : public providers::stream_decoder {
 public:
  loop_round_decoder(std::unique_ptr<providers::stream_decoder> inner, round_state& loop, std::string id,
                     std::int64_t& streamed_chars)
      : inner_(std::move(inner)), loop_(loop), id_(std::move(id)), streamed_chars_(streamed_chars) {
    loop_.round = {};  // a fall-through's new attempt starts the round over
  }

  std::optional<providers::failure> on_event(const sse_event& ev, std::vector<nlohmann::json>& out) override {
    std::vector<providers::relay_chunk> chunks;
    auto f = decode(ev, chunks);
    for (auto& c : chunks) out.push_back(c.chunk.is_null() ? nlohmann::json::parse(c.raw, nullptr, false) : std::move(c.chunk));
    return f;
  }

  std::optional<providers::failure> decode(const sse_event& ev, std::vector<providers::relay_chunk>& out) override {
    std::vector<providers::relay_chunk> chunks;
    auto f = inner_->decode(ev, chunks);
    for (auto& c : chunks) filter(std::move(c), out);
    return f;
  }

  [[nodiscard]] bool done() const override { return inner_->done(); }
  [[nodiscard]] providers::token_usage usage() const override { return inner_->usage(); }

 private:
  void filter(providers::relay_chunk c, std::vector<providers::relay_chunk>& out) {
    auto& j = c.chunk;
    // Relayed as text on the plain path; the loop edits chunks, so it parses.
    if (j.is_null()) j = nlohmann::json::parse(c.raw, nullptr, false);
    auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array()) return;
    // The usage-only chunk: one, summed over rounds, closes the stream instead.
    if (choices->empty()) return;
    auto& round = loop_.round;
    auto& choice = (*choices)[0];
    if (auto d = choice.find("delta"); d != choice.end() && d->is_object()) {
      if (auto calls = d->find("tool_calls"); calls != d->end()) {
        if (calls->is_array() && !calls->empty()) {
          assemble(round.calls, *calls, streamed_chars_);
          auto held = j;
          held["id"] = id_;
          held.erase("usage");
          held["choices"][0]["delta"] = {{"tool_calls", *calls}};
          held["choices"][0]["finish_reason"] = nullptr;
          round.call_chunks.push_back(providers::built_chunk(std::move(held)));
        }
        d->erase("tool_calls");
      }
      if (d->contains("role") && loop_.role_sent) d->erase("role");
      if (non_empty_string(*d, "content")) {
        round.text += (*d)["content"].get<std::string>();
        round.sent_content = true;
      }
    }
    if (auto f = choice.find("finish_reason"); f != choice.end() && !f->is_null()) {
      round.finish_reason = *f;
      *f = nullptr;
    }
    if (auto u = j.find("usage"); u != j.end() && !u->is_null()) j.erase(u);
    auto d = choice.find("delta");
    bool role = d != choice.end() && d->is_object() && d->contains("role");
    bool content = d != choice.end() && d->is_object() &&
                   (non_empty_string(*d, "content") || non_empty_string(*d, "refusal"));
    if (!role && !content) return;  // nothing left for the client
    if (role) loop_.role_sent = true;
    j["id"] = id_;  // one id across rounds (an OpenAI upstream names each call anew)
    out.push_back(providers::built_chunk(std::move(j)));
  }

  std::unique_ptr<providers::stream_decoder> inner_;
  round_state& loop_;
  std::string id_;
  std::int64_t& streamed_chars_;
};

nlohmann::json chunk_head(const session_state& st) {
  return {{"id", stream_id(st)},
          {"object", "chat.completion.chunk"},
          {"created", unix_now()},
          {"model", st.job.targets[st.target_index].model}};
}

/// The round as the non-streamed loop sees a model answer.
nlohmann::json round_completion(const session_state& st) {
  auto& r = st.loop.round;
  nlohmann::json message = {{"role", "assistant"},
                            {"content", r.text.empty() ? nlohmann::json() : nlohmann::json(r.text)}};
  if (!r.calls.empty()) message["tool_calls"] = r.calls;
  auto c = chunk_head(st);
  c["object"] = "chat.completion";
  c["choices"] = {{{"index", 0},
                   {"message", std::move(message)},
                   {"finish_reason", r.finish_reason.is_null() ? nlohmann::json("stop") : r.finish_reason}}};
  return c;
}

/// The loop ended on this round: its held tool-call deltas (a client tool,
/// or the round cap), the finish chunk with `gateway`, the summed usage.
bool send_closing_chunks(self_ptr self, const nlohmann::json& completion) {
  auto& st = self->state;
  std::vector<providers::relay_chunk> chunks = std::move(st.loop.round.call_chunks);
  auto finish = chunk_head(st);
  nlohmann::json delta = nlohmann::json::object();
  if (!st.loop.role_sent) delta["role"] = "assistant";
  finish["choices"] = {{{"index", 0}, {"delta", delta}, {"finish_reason", completion["choices"][0]["finish_reason"]}}};
  finish["gateway"] = completion.value("gateway", nlohmann::json::object());
  finish["gateway"]["tool_rounds"] = st.loop.rounds;
  chunks.push_back(providers::built_chunk(std::move(finish)));
  if (st.job.include_usage) {
    auto& u = st.loop.total;
    auto usage = chunk_head(st);
    usage["choices"] = nlohmann::json::array();
    usage["usage"] = {{"prompt_tokens", u.prompt_tokens},
                      {"completion_tokens", u.completion_tokens},
                      {"total_tokens", u.prompt_tokens + u.completion_tokens}};
    chunks.push_back(providers::built_chunk(std::move(usage)));
  }
  return relay_chunks(self, chunks);
}

}  // namespace

std::string stream_id(const session_state& st) { return "chatcmpl-" + st.job.request_id.substr(4); }

std::unique_ptr<providers::stream_decoder> for_tool_loop(session_state& st,
                                                         std::unique_ptr<providers::stream_decoder> d) {
  if (!st.job.tools || !d) return d;
  return std::make_unique<loop_round_decoder>(std::move(d), st.loop, stream_id(st), st.cur.streamed_chars);
}

bool handle_streamed_round(self_ptr self, const providers::token_usage& usage) {
  auto& st = self->state;
  if (usage.reported) {
    st.loop.total.prompt_tokens += usage.prompt_tokens;
    st.loop.total.completion_tokens += usage.completion_tokens;
  }
  auto completion = round_completion(st);
  if (continue_tool_loop(self, completion)) return true;
  return !send_closing_chunks(self, completion);
}

nlohmann::json pause_chunk(session_state& st, const nlohmann::json& gateway) {
  auto calls = st.loop.calls;
  for (std::size_t i = 0; i < calls.size(); ++i) calls[i]["index"] = i;
  nlohmann::json delta = {{"tool_calls", std::move(calls)}};
  if (!st.loop.role_sent) delta["role"] = "assistant";
  auto c = chunk_head(st);
  c["choices"] = {{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", "tool_calls"}}};
  c["gateway"] = gateway;
  return c;
}

}  // namespace sb::actors::session
