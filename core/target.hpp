#pragma once
// Model selection (SPEC section 4): a request's `model` becomes the ordered
// list of (provider, model) targets the cascade walks.

#include <string>
#include <variant>
#include <vector>

#include "core/api_error.hpp"
#include "core/config.hpp"

namespace sb {

struct target {
  std::string provider;  // provider id
  std::string model;     // the model as that provider names it
  [[nodiscard]] std::string name() const { return provider + "/" + model; }
  friend bool operator==(const target& a, const target& b) {
    return a.provider == b.provider && a.model == b.model;
  }
};

/// Every configured target in cascade order: providers in `chain` order, each
/// provider's models in its cascade order. This is `auto` and GET /v1/models.
std::vector<target> full_cascade(const gateway_config& cfg);

/// Resolves `model` as SPEC section 4 says: auto, provider/model (that first,
/// then the rest unless fallback is false), alias (the list, in order), bare
/// model name (its targets first, then the rest); anything else is a 400
/// model_not_found.
std::variant<std::vector<target>, api_error> select_targets(const gateway_config& cfg,
                                                            const std::string& model,
                                                            bool fallback);

}  // namespace sb
