#include "core/provider_catalog.hpp"

namespace sb {

// Default model cascades, used when LLM_MODEL_<P> is unset. Each is the
// provider's cheap, fast, generally available chat model at the time of
// writing, so that a bare `*_API_KEY` gives a working gateway without the
// operator paying flagship prices by surprise:
//   openrouter   openai/gpt-4o-mini
//   anthropic    claude-3-5-haiku-latest
//   openai       gpt-4o-mini
//   google       gemini-2.0-flash
//   deepseek     deepseek-chat
//   huggingface  meta-llama/Llama-3.1-8B-Instruct
const std::vector<provider_spec>& provider_catalog() {
  static const std::vector<provider_spec> catalog = {
      {"openrouter", "OPENROUTER", "", "https://openrouter.ai/api/v1", wire_format::openai_chat,
       {"openai/gpt-4o-mini"}},
      {"anthropic", "ANTHROPIC", "", "https://api.anthropic.com",
       wire_format::anthropic_messages, {"claude-3-5-haiku-latest"}},
      {"openai", "OPENAI", "", "https://api.openai.com/v1", wire_format::openai_chat,
       {"gpt-4o-mini"}},
      {"google", "GOOGLE", "GEMINI_API_KEY", "https://generativelanguage.googleapis.com",
       wire_format::gemini, {"gemini-2.0-flash"}},
      {"deepseek", "DEEPSEEK", "", "https://api.deepseek.com", wire_format::openai_chat,
       {"deepseek-chat"}},
      {"huggingface", "HUGGINGFACE", "HF_TOKEN", "https://router.huggingface.co/v1",
       wire_format::openai_chat, {"meta-llama/Llama-3.1-8B-Instruct"}},
  };
  return catalog;
}

const provider_spec* find_provider_spec(std::string_view id) {
  for (const auto& spec : provider_catalog())
    if (spec.id == id) return &spec;
  return nullptr;
}

const std::vector<std::string>& known_provider_ids() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> out;
    for (const auto& spec : provider_catalog()) out.push_back(spec.id);
    return out;
  }();
  return ids;
}

}  // namespace sb
