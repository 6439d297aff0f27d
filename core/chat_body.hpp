#pragma once
// A client's chat request body: the bytes it sent, and the JSON tree parsed
// from them only when something needs it. A plain request to an
// OpenAI-format provider never does: its upstream body is copied member by
// member from the text (openai_adapter), and the endpoint read what it needed
// with a scan (chat_request_scan). Parsing and freeing the tree was about a
// sixth of a proxied request's instructions (bench/RESULTS.md).

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sb {

class chat_body {
 public:
  chat_body() = default;
  /// A body known only as a tree (built or changed by the gateway).
  explicit chat_body(nlohmann::json tree) : tree_(std::move(tree)), parsed_(true) {}
  /// The client's text, already checked to be one valid JSON object.
  static chat_body from_text(std::string text);

  /// The tree, parsed from the text on first use.
  [[nodiscard]] const nlohmann::json& tree() const;
  /// The tree, to change: from now on the text no longer says the same, and
  /// text() is empty.
  [[nodiscard]] nlohmann::json& edit();
  /// The client's bytes while the tree is exactly their parse; empty once
  /// the body was built or changed by the gateway.
  [[nodiscard]] std::string_view text() const { return text_; }

 private:
  mutable nlohmann::json tree_;
  mutable bool parsed_ = false;
  std::string text_;
};

}  // namespace sb
