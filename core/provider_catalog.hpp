#pragma once
// What SPEC section 2 says about each provider before any env or file is read:
// its env prefix, default base URL, wire format and default model cascade.

#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"

namespace sb {

struct provider_spec {
  std::string id;                // "openai"
  std::string env_prefix;        // "OPENAI": OPENAI_API_KEY, LLM_MODEL_OPENAI, OPENAI_BASE_URL
  std::string key_alias;         // "GEMINI_API_KEY" for google; empty when none
  std::string default_base_url;  // no trailing slash
  wire_format format = wire_format::openai_chat;
  std::vector<std::string> default_models;  // used when LLM_MODEL_<P> is unset
};

/// The six providers in the default cascade order.
const std::vector<provider_spec>& provider_catalog();
/// nullptr when `id` is not one of the six.
const provider_spec* find_provider_spec(std::string_view id);

}  // namespace sb
