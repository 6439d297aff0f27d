#include "providers/openai_shapes.hpp"

namespace sb::providers {

using nlohmann::json;

json make_chunk(const std::string& id, std::int64_t created, const std::string& model, json delta,
                const json& finish_reason) {
  json choice = {{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish_reason}};
  return {{"id", id},
          {"object", "chat.completion.chunk"},
          {"created", created},
          {"model", model},
          {"choices", json::array({std::move(choice)})}};
}

json make_usage_chunk(const std::string& id, std::int64_t created, const std::string& model,
                      const token_usage& usage) {
  return {{"id", id},
          {"object", "chat.completion.chunk"},
          {"created", created},
          {"model", model},
          {"choices", json::array()},
          {"usage", usage_object(usage)}};
}

json usage_object(const token_usage& usage) {
  return {{"prompt_tokens", usage.prompt_tokens},
          {"completion_tokens", usage.completion_tokens},
          {"total_tokens", usage.prompt_tokens + usage.completion_tokens}};
}

std::string content_text(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string text;
  if (!content.is_array()) return text;
  for (const auto& part : content) {
    if (part.is_string()) {
      text += part.get<std::string>();
    } else if (string_field(part, "type") == "text") {
      text += string_field(part, "text");
    }
  }
  return text;
}

json arguments_object(const json& arguments) {
  if (arguments.is_object()) return arguments;
  if (!arguments.is_string()) return json::object();
  json parsed = json::parse(arguments.get<std::string>(), nullptr, /*allow_exceptions=*/false);
  return parsed.is_object() ? parsed : json::object();
}

std::optional<std::int64_t> requested_max_tokens(const json& request) {
  for (const char* key : {"max_completion_tokens", "max_tokens"}) {
    auto it = request.find(key);
    if (it != request.end() && it->is_number()) return it->get<std::int64_t>();
  }
  return std::nullopt;
}

json stop_list(const json& stop) {
  if (stop.is_string()) return json::array({stop});
  if (stop.is_array()) return stop;
  return json::array();
}

std::int64_t as_int(const json& v) {
  if (v.is_number()) return v.get<std::int64_t>();
  if (v.is_string()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

const json& member(const json& obj, const char* key) {
  static const json null_value;
  if (!obj.is_object()) return null_value;
  auto it = obj.find(key);
  return it != obj.end() ? *it : null_value;
}

std::string string_field(const json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string{};
}


chunk_facts facts_of_chunk(const nlohmann::json& chunk) {
  chunk_facts f;
  auto c = chunk.find("choices");
  if (c == chunk.end() || !c->is_array() || c->empty()) {
    f.content = chunk.contains("usage");  // OpenAI's usage-only last chunk
    return f;
  }
  auto non_empty_string = [](const nlohmann::json& o, const char* key) {
    auto v = o.find(key);
    return v != o.end() && v->is_string() && !v->get_ref<const std::string&>().empty();
  };
  bool first = true;
  for (auto& choice : *c) {
    if (!choice.is_object()) continue;
    if (first) {
      auto fr = choice.find("finish_reason");
      if (fr != choice.end() && !fr->is_null()) f.content = true;
    }
    auto d = choice.find("delta");
    if (d != choice.end() && d->is_object()) {
      if (auto t = d->find("content"); t != d->end() && t->is_string()) {
        auto& s = t->get_ref<const std::string&>();
        f.content_chars += static_cast<std::int64_t>(s.size());
        if (first) f.text = s;
      }
      auto calls = d->find("tool_calls");
      bool has_calls = calls != d->end() && calls->is_array() && !calls->empty();
      if (has_calls)
        for (auto& call : *calls)
          if (auto fn = call.find("function"); call.is_object() && fn != call.end() && fn->is_object())
            if (auto a = fn->find("arguments"); a != fn->end() && a->is_string())
              f.content_chars += static_cast<std::int64_t>(a->get_ref<const std::string&>().size());
      // Present but empty fields are no content: OpenAI's first chunk is
      // {"role", "content": "", "refusal": null}.
      if (first && (non_empty_string(*d, "content") || non_empty_string(*d, "refusal") || has_calls))
        f.content = true;
    }
    first = false;
  }
  return f;
}

void note_completion_facts(decoded_completion& d) {
  auto& c = d.completion;
  auto created = c.find("created");
  d.created = created != c.end() && created->is_number_integer() && created->get<std::int64_t>() > 0
                  ? created->get<std::int64_t>()
                  : 0;
  d.text.clear();
  d.tool_calls = false;
  auto choices = c.find("choices");
  if (choices == c.end() || !choices->is_array() || choices->empty()) return;
  auto m = (*choices)[0].find("message");
  if (m == (*choices)[0].end() || !m->is_object()) return;
  if (auto t = m->find("content"); t != m->end() && t->is_string()) d.text = t->get<std::string>();
  auto calls = m->find("tool_calls");
  d.tool_calls = calls != m->end() && calls->is_array() && !calls->empty();
}

nlohmann::json& decoded_completion::parsed() {
  if (completion.is_null() && raw) completion = nlohmann::json::parse(*raw, nullptr, false);
  return completion;
}

}  // namespace sb::providers
