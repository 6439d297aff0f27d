#include "providers/openai_adapter.hpp"

#include <algorithm>
#include <array>

#include "providers/openai_scan.hpp"
#include "providers/openai_shapes.hpp"
#include "providers/upstream_error.hpp"

namespace sb::providers {

using nlohmann::json;

namespace {

// Fields the gateway reads itself and the provider must not see, plus those
// encode sets anew.
constexpr std::array<std::string_view, 6> skipped_fields = {
    "model", "stream", "stream_options", "gateway_tools", "prompt", "gateway"};

bool skipped(std::string_view key) {
  for (auto s : skipped_fields)
    if (s == key) return true;
  return false;
}

// Invalid UTF-8 cannot reach here from a parsed request, but a dump must never throw.
std::string dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

// A model name is plain ASCII: copied between quotes it needs no serializer
// (whose set-up, a locale look-up and a buffer, is most of a short dump).
void append_string(std::string& body, const std::string& s) {
  bool plain = std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; });
  if (!plain) {
    body += dump(json(s));
    return;
  }
  body += '"';
  body += s;
  body += '"';
}

// What encode sets after the client's members: the target's model and, for a
// stream, usage asked for (the client's other stream options kept). Shared by
// both ways of writing the client's members, so the two bodies cannot drift.
/// The members the gateway sets, and the closing brace. `stream_options`:
/// the client's own (null when it gave none or not an object).
void append_gateway_members(std::string& body, const json* stream_options, const std::string& model,
                            bool stream) {
  body += "\"model\":";
  append_string(body, model);
  if (stream) {
    json options = stream_options && stream_options->is_object() ? *stream_options : json::object();
    options["include_usage"] = true;
    body += ",\"stream\":true,\"stream_options\":";
    body += dump(options);
  }
  body += '}';
}

const json* stream_options_of(const json& request) {
  if (!request.is_object()) return nullptr;
  auto it = request.find("stream_options");
  return it == request.end() ? nullptr : &*it;
}

class openai_stream_decoder final : public stream_decoder {
 public:
  explicit openai_stream_decoder(bool include_usage) : include_usage_(include_usage) {}

  std::optional<failure> on_event(const sse_event& ev, std::vector<json>& out) override {
    std::vector<relay_chunk> chunks;
    auto f = decode(ev, chunks);
    for (auto& c : chunks) out.push_back(c.chunk.is_null() ? json::parse(c.raw, nullptr, false) : std::move(c.chunk));
    return f;
  }

  // Relayed untouched: the upstream's text goes out as it came, and is only
  // scanned for its facts; a tree is built for errors and tool calls alone.
  std::optional<failure> decode(const sse_event& ev, std::vector<relay_chunk>& out) override {
    std::string_view data = ev.data;
    while (!data.empty() && (data.front() == ' ' || data.front() == '\n')) data.remove_prefix(1);
    while (!data.empty() && (data.back() == ' ' || data.back() == '\n')) data.remove_suffix(1);
    if (data.empty()) return std::nullopt;
    if (data == "[DONE]") {
      done_ = true;
      return std::nullopt;
    }
    auto facts = scan_openai(data);
    if (!facts) {
      return failure{failure_kind::server_error, 0, "bad_chunk", "upstream sent a stream chunk that is not JSON"};
    }
    if (ev.event == "error" || facts->has_error) {
      error_body err = read_error_object(json::parse(data, nullptr, false));
      return failure{kind_for_stream_error(err), 0, err.code, err.message};
    }
    if (facts->has_usage) usage_ = facts->usage;
    bool usage_only = facts->choices_array && facts->choices == 0 && facts->has_usage;
    if (!include_usage_ && usage_only) return std::nullopt;
    relay_chunk c;
    if (facts->tool_calls) c.chunk = json::parse(data, nullptr, false);
    c.raw = std::string(data);
    c.facts = std::move(facts->chunk);
    out.push_back(std::move(c));
    return std::nullopt;
  }

  [[nodiscard]] bool done() const override { return done_; }
  [[nodiscard]] token_usage usage() const override { return usage_; }

 private:
  bool include_usage_;
  bool done_ = false;
  token_usage usage_;
};

}  // namespace

token_usage read_openai_usage(const json& usage) {
  token_usage out;
  if (!usage.is_object()) return out;
  out.prompt_tokens = as_int(usage.value("prompt_tokens", json()));
  out.completion_tokens = as_int(usage.value("completion_tokens", json()));
  out.reported = true;
  return out;
}

std::string openai_request_body(const json& request, const std::string& model, bool stream) {
  std::string body = "{";
  if (request.is_object()) {
    for (auto it = request.begin(); it != request.end(); ++it) {
      if (skipped(it.key())) continue;
      body += dump(json(it.key()));
      body += ':';
      body += dump(it.value());
      body += ',';
    }
  }
  append_gateway_members(body, stream_options_of(request), model, stream);
  return body;
}

std::optional<std::string> openai_request_body_from_text(std::string_view text, const std::string& model,
                                                         bool stream) {
  auto members = object_members(text);
  if (!members) return std::nullopt;
  std::string body;
  body.reserve(text.size() + model.size() + 64);
  body += '{';
  json stream_options;  // parsed only for a stream, and only this member
  for (std::size_t i = 0; i < members->size(); ++i) {
    auto& m = (*members)[i];
    // A repeated key: the tree keeps only its last value, so relaying every
    // copy would say something else. A request has a few members: pairwise.
    for (std::size_t j = 0; j < i; ++j)
      if ((*members)[j].key == m.key) return std::nullopt;
    if (stream && m.key == "stream_options") stream_options = json::parse(m.value, nullptr, false);
    if (skipped(m.key)) continue;
    body += m.text;
    body += ',';
  }
  append_gateway_members(body, &stream_options, model, stream);
  return body;
}

openai_adapter::openai_adapter(const std::map<std::string, std::string>& extra_headers)
    : extra_headers_(extra_headers.begin(), extra_headers.end()) {}

encoded_request openai_adapter::encode(const json& request, const std::string& model,
                                       const std::string& api_key, bool stream) const {
  return with_body(openai_request_body(request, model, stream), api_key);
}

encoded_request openai_adapter::encode(const chat_body& body, const std::string& model,
                                       const std::string& api_key, bool stream) const {
  if (!body.text().empty())
    if (auto relayed = openai_request_body_from_text(body.text(), model, stream)) return with_body(std::move(*relayed), api_key);
  return encode(body.tree(), model, api_key, stream);
}

encoded_request openai_adapter::with_body(std::string body, const std::string& api_key) const {
  encoded_request out;
  out.path = "/chat/completions";
  out.headers = {{"Authorization", "Bearer " + api_key}, {"Content-Type", "application/json"}};
  out.headers.insert(out.headers.end(), extra_headers_.begin(), extra_headers_.end());
  out.body = std::move(body);
  return out;
}

std::variant<decoded_completion, std::string> openai_adapter::decode_response(
    std::string_view body, const std::string& /*model*/) const {
  // Relayed as it came: scanned for its facts, no tree built (a tool loop or
  // a stamp parses it later, on demand).
  auto facts = scan_openai(body);
  if (!facts) return std::string("upstream answer is not a JSON object");
  // OpenRouter can answer 200 with an error envelope when the routed model fails.
  if (facts->has_error) {
    error_body err = read_error_object(json::parse(body, nullptr, false));
    return "upstream answered with an error: " + (err.message.empty() ? err.code : err.message);
  }
  if (!facts->choices_array || facts->choices == 0) return std::string("upstream answer has no choices");
  if (facts->messages != facts->choices) return std::string("upstream answer has a choice without a message");
  decoded_completion out;
  if (facts->has_usage) out.usage = facts->usage;
  out.raw = std::string(body);  // already this format: relayed byte for byte
  out.created = facts->created;
  out.text = std::move(facts->chunk.text);
  out.tool_calls = facts->first_tool_calls;
  return out;
}

failure openai_adapter::classify(int status, std::string_view body) const {
  error_body err = read_error_body(body);
  failure f = status_failure(status, err);
  if (status == 429 && (err.code == "insufficient_quota" || err.type == "insufficient_quota")) {
    f.kind = failure_kind::out_of_credit;
  } else if (status == 400 || status == 413 || status == 422) {
    // Another target may take the prompt (a longer context) or know the model.
    bool too_long = err.code == "context_length_exceeded" ||
                    mentions(err.message, "maximum context length") ||
                    mentions(err.message, "context_length_exceeded");
    bool unknown_model = err.code == "model_not_found" ||
                         mentions(err.message, "not a valid model");  // OpenRouter's wording
    if (too_long || unknown_model) f.kind = failure_kind::target_unavailable;
  }
  return f;
}

std::unique_ptr<stream_decoder> openai_adapter::make_stream_decoder(const std::string& model,
                                                                   const std::string& id,
                                                                   std::int64_t created) const {
  return make_stream_decoder(model, id, created, false);
}

std::unique_ptr<stream_decoder> openai_adapter::make_stream_decoder(const std::string& /*model*/,
                                                                   const std::string& /*id*/,
                                                                   std::int64_t /*created*/,
                                                                   bool include_usage) const {
  // OpenAI chunks carry their own id, created and model: relayed untouched.
  return std::make_unique<openai_stream_decoder>(include_usage);
}

}  // namespace sb::providers
