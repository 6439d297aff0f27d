#pragma once
// One adapter per wire format, behind this small interface. Adapters are pure:
// no I/O, no clock, no actor. They translate between the client's OpenAI chat
// shapes and what one provider format expects and answers.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/chat_body.hpp"
#include "core/config.hpp"
#include "core/sse_event.hpp"

namespace sb::providers {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// What to send upstream. `path` is appended to the provider's base URL.
struct encoded_request {
  std::string path;     // e.g. "/chat/completions", "/v1/messages",
                        // "/v1beta/models/M:streamGenerateContent?alt=sse"
  header_list headers;  // auth, version and content-type headers
  std::string body;
};

struct token_usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  bool reported = false;  // false: the provider said nothing (yet)
};

/// How an upstream failure moves the cascade (SPEC section 5's table).
enum class failure_kind {
  rate_limited,       // 429: cool the key down, rotate
  out_of_credit,      // 402, or 429 insufficient_quota: skip the provider
  server_error,       // 500/502/503/504 (and in-stream overload): retry the target
  auth_invalid,       // 401/403, Gemini 400 API_KEY_INVALID: key invalid, next key
  target_unavailable, // 404 model not found, context length exceeded: next target
  client_error,       // other 4xx: the request is wrong, return it to the client
};

struct failure {
  failure_kind kind = failure_kind::server_error;
  int status = 0;        // upstream HTTP status (0 for in-stream errors)
  std::string code;      // provider's error code/type when it gave one
  std::string message;   // provider's message, safe to show the client
};

struct decoded_completion {
  /// The OpenAI chat.completion object; `created` is 0 when the upstream
  /// format has none (stamp it). Null while an OpenAI-format answer is held
  /// only as `raw`: call parsed() before reading or changing it.
  nlohmann::json completion;
  token_usage usage;
  /// Set when the upstream already answered in the OpenAI chat format: its
  /// body, byte for byte (the provider's own key order). The caller sends it
  /// as is unless it changes the completion (stamps `created`, adds `gateway`
  /// fields); then it must dump. Translating adapters leave it empty.
  std::optional<std::string> raw;
  // Read by every adapter, so that the caller needs no tree to know them.
  std::int64_t created = 0;  // 0: none; stamp one
  std::string text;          // the first choice's message content, for the log
  bool tool_calls = false;   // the first choice's message calls tools

  /// `completion`, parsed from `raw` on first use.
  nlohmann::json& parsed();
};

/// Sets created/text/tool_calls from `completion` (translating adapters).
void note_completion_facts(decoded_completion& d);

using sb::sse_event;

/// What the relay needs to know of a chunk, read once by the decoder.
struct chunk_facts {
  /// Real content: a non-empty delta content or refusal, tool calls, a
  /// finish_reason, or (a usage-only chunk) usage. Role-only chunks are held
  /// back until content comes, so a failure before it can still fall through.
  bool content = false;
  /// Characters of content and tool-call arguments over all choices, to
  /// estimate the tokens of a stream cut short.
  std::int64_t content_chars = 0;
  std::string text;  // the first choice's delta content, for the conversation log
};

/// The facts of a chunk held as JSON (a translated one, or a parsed one).
chunk_facts facts_of_chunk(const nlohmann::json& chunk);

/// One chunk for the client, as a stream decoder hands it to the relay.
struct relay_chunk {
  /// The OpenAI chat.completion.chunk. Always set when `raw` is empty, and
  /// for chunks with tool calls; null for an upstream chunk relayed as text.
  nlohmann::json chunk;
  /// Non-empty: the chunk's JSON text exactly as the upstream sent it; frame
  /// it as is (no re-serialisation of an unchanged chunk). Empty: the decoder
  /// built or changed the chunk; dump `chunk`.
  std::string raw;
  chunk_facts facts;
};

/// A chunk the gateway built or changed, with its facts: dumped when relayed.
inline relay_chunk built_chunk(nlohmann::json chunk) {
  auto facts = facts_of_chunk(chunk);
  return relay_chunk{std::move(chunk), {}, std::move(facts)};
}

/// Per-request, stateful: turns upstream SSE events into OpenAI
/// chat.completion.chunk objects, in order.
class stream_decoder {
 public:
  virtual ~stream_decoder() = default;
  /// Appends the chunks this event yields to `out`. Returns a failure when the
  /// event reports an error inside the stream (e.g. Anthropic's `error` event).
  virtual std::optional<failure> on_event(const sse_event& ev, std::vector<nlohmann::json>& out) = 0;
  /// The same, for the relay: each chunk keeps the upstream's text when the
  /// decoder passed it on unchanged (OpenAI-format upstreams), so the caller
  /// parses nothing again and serialises only chunks that have no `raw`.
  /// The default wraps on_event (every chunk to dump).
  virtual std::optional<failure> decode(const sse_event& ev, std::vector<relay_chunk>& out) {
    std::vector<nlohmann::json> chunks;
    auto f = on_event(ev, chunks);
    for (auto& c : chunks) out.push_back(built_chunk(std::move(c)));
    return f;
  }
  /// True once the format's end marker was seen ([DONE], message_stop, final candidate).
  [[nodiscard]] virtual bool done() const = 0;
  [[nodiscard]] virtual token_usage usage() const = 0;
};

class adapter {
 public:
  virtual ~adapter() = default;

  /// `request` is the client's OpenAI chat request (gateway-only fields
  /// already removed); `model` is the target's model as the provider names it.
  [[nodiscard]] virtual encoded_request encode(const nlohmann::json& request,
                                               const std::string& model,
                                               const std::string& api_key,
                                               bool stream) const = 0;

  /// The same, given the body as the client sent it. An adapter that sends
  /// the client's own format copies members from its text while it has one
  /// (and so never builds the tree); the default, for translating adapters,
  /// reads the tree.
  [[nodiscard]] virtual encoded_request encode(const chat_body& body, const std::string& model,
                                               const std::string& api_key, bool stream) const {
    return encode(body.tree(), model, api_key, stream);
  }

  /// A 2xx non-streaming body -> an OpenAI chat.completion, or why it is not one.
  [[nodiscard]] virtual std::variant<decoded_completion, std::string> decode_response(
      std::string_view body, const std::string& model) const = 0;

  /// A non-2xx answer -> its row in the retry table.
  [[nodiscard]] virtual failure classify(int status, std::string_view body) const = 0;

  /// `id` and `created` are stamped on every chunk the decoder emits when the
  /// upstream format has none of its own. Same as the overload below with
  /// include_usage = false.
  [[nodiscard]] virtual std::unique_ptr<stream_decoder> make_stream_decoder(
      const std::string& model, const std::string& id, std::int64_t created) const = 0;

  /// `include_usage`: the client asked `stream_options.include_usage`, so the
  /// decoder ends with OpenAI's usage chunk (`choices: []`); without it no
  /// usage chunk reaches the client (usage() still reports it for metering).
  /// Decoders never emit `[DONE]`: the caller frames the end of the stream.
  [[nodiscard]] virtual std::unique_ptr<stream_decoder> make_stream_decoder(
      const std::string& model, const std::string& id, std::int64_t created,
      bool include_usage) const {
    (void)include_usage;
    return make_stream_decoder(model, id, created);
  }
};

/// The adapter for a provider's wire format (its extra headers included).
std::unique_ptr<adapter> make_adapter(const provider_config& provider);

}  // namespace sb::providers
