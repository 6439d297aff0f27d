#include "core/chat_body.hpp"

namespace sb {

chat_body chat_body::from_text(std::string text) {
  chat_body b;
  b.text_ = std::move(text);
  return b;
}

const nlohmann::json& chat_body::tree() const {
  if (!parsed_) {
    // Checked by the caller's scan; a text that still fails stays a
    // discarded value rather than throwing on a session's thread.
    tree_ = nlohmann::json::parse(text_, nullptr, /*allow_exceptions=*/false);
    parsed_ = true;
  }
  return tree_;
}

nlohmann::json& chat_body::edit() {
  (void)tree();
  text_.clear();
  text_.shrink_to_fit();
  return tree_;
}

}  // namespace sb
