#include "cluster/price_table.hpp"

#include <cmath>
#include <mutex>
#include <unordered_map>

namespace sb::cluster {

const std::map<std::string, price>& default_prices() {
  // List prices in USD per million tokens (input, output). They drift: an
  // operator who needs them exact sets `prices` in the config.
  static const std::map<std::string, price> table = {
      {"openai/gpt-4o", {2.50, 10.00}},
      {"openai/gpt-4o-mini", {0.15, 0.60}},
      {"openai/gpt-4.1", {2.00, 8.00}},
      {"openai/gpt-4.1-mini", {0.40, 1.60}},
      {"openai/gpt-4.1-nano", {0.10, 0.40}},
      {"openai/o3-mini", {1.10, 4.40}},
      {"anthropic/claude-3-5-haiku-latest", {0.80, 4.00}},
      {"anthropic/claude-3-5-haiku", {0.80, 4.00}},
      {"anthropic/claude-3-5-sonnet-latest", {3.00, 15.00}},
      {"anthropic/claude-3-5-sonnet", {3.00, 15.00}},
      {"anthropic/claude-3-7-sonnet", {3.00, 15.00}},
      {"anthropic/claude-3-opus", {15.00, 75.00}},
      {"google/gemini-2.0-flash", {0.10, 0.40}},
      {"google/gemini-2.0-flash-lite", {0.075, 0.30}},
      {"google/gemini-1.5-flash", {0.075, 0.30}},
      {"google/gemini-1.5-pro", {1.25, 5.00}},
      {"deepseek/deepseek-chat", {0.27, 1.10}},
      {"deepseek/deepseek-reasoner", {0.55, 2.19}},
      {"openrouter/openai/gpt-4o-mini", {0.15, 0.60}},
      {"openrouter/openai/gpt-4o", {2.50, 10.00}},
      {"openrouter/anthropic/claude-3.5-sonnet", {3.00, 15.00}},
      {"openrouter/anthropic/claude-3.5-haiku", {0.80, 4.00}},
      {"openrouter/google/gemini-2.0-flash-001", {0.10, 0.40}},
      // The HF router's price depends on the inference provider it picks.
      {"huggingface/meta-llama/Llama-3.1-8B-Instruct", {0.02, 0.05}},
  };
  return table;
}

struct price_table::remembered {
  std::mutex mutex;
  std::unordered_map<std::string, std::optional<price>> by_target;  // "provider\0model"
};

price_table::price_table(const std::map<std::string, price>& overrides)
    : prices_(default_prices()), remembered_(std::make_shared<remembered>()) {
  for (const auto& [k, v] : overrides) prices_[k] = v;
}

std::optional<price> price_table::remembered_price(const std::string& provider, const std::string& model) const {
  constexpr std::size_t max_remembered = 4096;  // models come from config and answers: few
  thread_local std::string key;  // kept per thread: no allocation per lookup
  key.clear();
  key += provider;
  key += '\0';
  key += model;
  std::lock_guard<std::mutex> lock(remembered_->mutex);
  auto& seen = remembered_->by_target;
  if (auto it = seen.find(key); it != seen.end()) return it->second;
  std::optional<price> p;
  if (const price* found = find(provider, model)) p = *found;
  if (seen.size() >= max_remembered) seen.clear();
  seen.emplace(key, p);
  return p;
}

const price* price_table::find(const std::string& provider, const std::string& model) const {
  const std::string key = provider + "/" + model;
  if (auto i = prices_.find(key); i != prices_.end()) return &i->second;
  // Longest entry `e` with key == e + "-…". Entries that are prefixes of key
  // sort before it; walk back from where key would be.
  const price* best = nullptr;
  std::size_t best_len = 0;
  const std::string provider_prefix = provider + "/";
  for (auto i = prices_.lower_bound(key); i != prices_.begin();) {
    --i;
    const std::string& e = i->first;
    if (e.compare(0, provider_prefix.size(), provider_prefix) != 0) break;
    if (e.size() < key.size() && key.compare(0, e.size(), e) == 0 && key[e.size()] == '-' &&
        e.size() > best_len) {
      best = &i->second;
      best_len = e.size();
    }
  }
  return best;
}

call_cost price_table::cost(const std::string& provider, const std::string& model,
                            std::int64_t prompt_tokens, std::int64_t completion_tokens) const {
  call_cost c;
  const auto p = remembered_price(provider, model);
  if (!p) return c;
  c.known = true;
  // tokens x USD-per-million-tokens is already micro-dollars.
  const double micros = static_cast<double>(prompt_tokens) * p->input_per_mtok +
                        static_cast<double>(completion_tokens) * p->output_per_mtok;
  c.usd = micros / 1e6;
  // Round up, but not a float's noise (0.6 x 100 = 60.000000000000007).
  c.micros = static_cast<std::int64_t>(std::ceil(micros - 1e-6));
  return c;
}

}  // namespace sb::cluster
