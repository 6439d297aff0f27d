// chat_body: the client's text until something needs the tree or changes it.
#include <catch2/catch.hpp>

#include "core/chat_body.hpp"

using sb::chat_body;

TEST_CASE("chat_body keeps the client's text and parses it only when asked", "[chat_body]") {
  auto b = chat_body::from_text(R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
  CHECK(b.text() == R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
  CHECK(b.tree()["model"] == "m");
  CHECK_FALSE(b.text().empty());  // reading the tree leaves the text standing
  b.edit()["messages"].push_back({{"role", "tool"}, {"content", "y"}});
  CHECK(b.text().empty());  // changed: the text says something else now
  CHECK(b.tree()["messages"].size() == 2);
}

TEST_CASE("chat_body built from a tree has no text", "[chat_body]") {
  chat_body b(nlohmann::json{{"model", "m"}});
  CHECK(b.text().empty());
  CHECK(b.tree()["model"] == "m");
  chat_body none;
  CHECK(none.text().empty());
}
