// One adapter per wire format; openrouter, deepseek and huggingface speak OpenAI's.
#include "providers/adapter.hpp"
#include "providers/anthropic_adapter.hpp"
#include "providers/gemini_adapter.hpp"
#include "providers/openai_adapter.hpp"

namespace sb::providers {

std::unique_ptr<adapter> make_adapter(const provider_config& provider) {
  switch (provider.format) {
    case wire_format::anthropic_messages:
      return std::make_unique<anthropic_adapter>(provider.extra_headers);
    case wire_format::gemini:
      return std::make_unique<gemini_adapter>(provider.extra_headers);
    case wire_format::openai_chat:
      break;
  }
  return std::make_unique<openai_adapter>(provider.extra_headers);
}

}  // namespace sb::providers
