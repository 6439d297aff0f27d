// One suite, both conversation backends: SQLite always, PostgreSQL when
// SB_TEST_DATABASE_URL is set (tests/services.sh; otherwise a WARN says the
// PostgreSQL half was skipped). The fixtures are the ledger suite's: a fresh
// SQLite file or a fresh PostgreSQL schema per test.

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

#include "cluster/open_conversation_store.hpp"
#include "cluster/open_ledger_store.hpp"
#include "tests/cluster/ledger_backends.hpp"

using namespace sb::cluster;
using sb::test::postgres_backend;
using sb::test::sqlite_backend;

namespace {

template <class Backend>
std::shared_ptr<conversation_store> open_or_skip(const Backend& b) {
  if (!b.available()) {
    WARN("SB_TEST_DATABASE_URL is not set: the " << Backend::name
                                                 << " half of the conversation suite is SKIPPED");
    return nullptr;
  }
  auto s = open_conversation_store(b.url());
  INFO(Backend::name << ": " << (s ? "" : s.error().to_string()));
  REQUIRE(s);
  CHECK(std::string((*s)->backend()) == Backend::name);
  return *s;
}

message_key key(const std::string& message, const std::string& conversation = "conv-1",
                const std::string& workspace = "acme") {
  return {workspace, conversation, message};
}

conversation_record must_get(conversation_store& s, const std::string& workspace,
                             const std::string& conversation) {
  auto c = s.get_conversation(workspace, conversation);
  INFO((c ? "" : c.error().to_string()));
  REQUIRE(c);
  REQUIRE(c->has_value());
  return **c;
}

}  // namespace

TEMPLATE_TEST_CASE("conversations: a user message and a streamed reply read back in order",
                   "[conversation]", sqlite_backend, postgres_backend) {
  TestType backend;
  auto store = open_or_skip(backend);
  if (!store) return;
  REQUIRE_FALSE(store->append_user_message(key("msg_u1"), "Hello?", "req_1"));
  REQUIRE_FALSE(store->start_assistant_message(key("msg_a1"), {"openai", "gpt-4o-mini", "req_1"}));

  auto c = must_get(*store, "acme", "conv-1");
  REQUIRE(c.messages.size() == 2);
  CHECK(c.messages[1].status == message_status::in_progress);
  CHECK(c.messages[1].content.empty());

  REQUIRE_FALSE(store->update_assistant_content(key("msg_a1"), "Hi", message_status::in_progress));
  REQUIRE_FALSE(store->update_assistant_content(key("msg_a1"), "Hi there.", message_status::complete));

  c = must_get(*store, "acme", "conv-1");
  CHECK(c.conversation_id == "conv-1");
  CHECK(c.created_at_ms > 0);
  REQUIRE(c.messages.size() == 2);
  const auto& u = c.messages[0];
  CHECK(u.message_id == "msg_u1");
  CHECK(u.seq == 1);
  CHECK(u.role == message_role::user);
  CHECK(u.content == "Hello?");
  CHECK(u.status == message_status::complete);
  CHECK(u.origin.request_id == "req_1");
  const auto& a = c.messages[1];
  CHECK(a.message_id == "msg_a1");
  CHECK(a.seq == 2);
  CHECK(a.role == message_role::assistant);
  CHECK(a.content == "Hi there.");
  CHECK(a.status == message_status::complete);
  CHECK(a.origin.provider == "openai");
  CHECK(a.origin.model == "gpt-4o-mini");
  CHECK(a.updated_at_ms >= a.created_at_ms);

  auto one = store->get_message(key("msg_a1"));
  REQUIRE(one);
  REQUIRE(one->has_value());
  CHECK((*one)->content == "Hi there.");
}

TEMPLATE_TEST_CASE("conversations: every write is an idempotent upsert", "[conversation]",
                   sqlite_backend, postgres_backend) {
  TestType backend;
  auto store = open_or_skip(backend);
  if (!store) return;
  REQUIRE_FALSE(store->append_user_message(key("msg_u1"), "first", "req_1"));
  REQUIRE_FALSE(store->append_user_message(key("msg_u1"), "retried", "req_1"));
  REQUIRE_FALSE(store->start_assistant_message(key("msg_a1"), {"openai", "m", "req_1"}));
  REQUIRE_FALSE(store->update_assistant_content(key("msg_a1"), "abc", message_status::partial));
  REQUIRE_FALSE(store->update_assistant_content(key("msg_a1"), "abc", message_status::partial));
  REQUIRE_FALSE(store->append_user_message(key("msg_u2"), "next", "req_2"));

  auto c = must_get(*store, "acme", "conv-1");
  REQUIRE(c.messages.size() == 3);
  CHECK(c.messages[0].content == "first");  // the first write stands
  CHECK(c.messages[1].content == "abc");
  // A retried write never burns a seq: seqs stay 1, 2, 3.
  CHECK(c.messages[0].seq == 1);
  CHECK(c.messages[1].seq == 2);
  CHECK(c.messages[2].seq == 3);
}

TEMPLATE_TEST_CASE("conversations: starting an assistant message again resumes it",
                   "[conversation]", sqlite_backend, postgres_backend) {
  TestType backend;
  auto store = open_or_skip(backend);
  if (!store) return;
  REQUIRE_FALSE(store->start_assistant_message(key("msg_a1"), {"openai", "gpt-4o", "req_1"}));
  REQUIRE_FALSE(store->update_assistant_content(key("msg_a1"), "The answer is", message_status::partial));

  // A resume (or a cascade that moved on) through another provider keeps the text.
  REQUIRE_FALSE(store->start_assistant_message(key("msg_a1"), {"anthropic", "claude", "req_2"}));
  auto m = store->get_message(key("msg_a1"));
  REQUIRE(m);
  REQUIRE(m->has_value());
  CHECK((*m)->status == message_status::in_progress);
  CHECK((*m)->content == "The answer is");
  CHECK((*m)->origin.provider == "anthropic");
  CHECK((*m)->origin.request_id == "req_2");
  CHECK((*m)->seq == 1);

  // With initial content, that content is the starting point.
  REQUIRE_FALSE(store->start_assistant_message(key("msg_a1"), {"anthropic", "claude", "req_3"},
                                               "The answer is 42"));
  m = store->get_message(key("msg_a1"));
  REQUIRE(m);
  CHECK((*m)->content == "The answer is 42");
  CHECK(must_get(*store, "acme", "conv-1").messages.size() == 1);
}

TEMPLATE_TEST_CASE("conversations: another workspace never sees nor touches them",
                   "[conversation]", sqlite_backend, postgres_backend) {
  TestType backend;
  auto store = open_or_skip(backend);
  if (!store) return;
  REQUIRE_FALSE(store->append_user_message(key("msg_u1", "shared-id", "acme"), "acme's secret", "r1"));
  REQUIRE_FALSE(store->start_assistant_message(key("msg_a1", "shared-id", "acme"), {"openai", "m", "r1"}));

  auto other = store->get_conversation("globex", "shared-id");
  REQUIRE(other);
  CHECK_FALSE(other->has_value());
  auto msg = store->get_message(key("msg_u1", "shared-id", "globex"));
  REQUIRE(msg);
  CHECK_FALSE(msg->has_value());

  auto write = store->update_assistant_content(key("msg_a1", "shared-id", "globex"), "hijack",
                                               message_status::complete);
  REQUIRE(write);
  CHECK(write->code == store_errc::bad_input);

  // The same ids in globex are globex's own conversation.
  REQUIRE_FALSE(store->append_user_message(key("msg_u1", "shared-id", "globex"), "globex's", "r2"));
  auto g = must_get(*store, "globex", "shared-id");
  REQUIRE(g.messages.size() == 1);
  CHECK(g.messages[0].content == "globex's");
  auto a = must_get(*store, "acme", "shared-id");
  REQUIRE(a.messages.size() == 2);
  CHECK(a.messages[0].content == "acme's secret");
  CHECK(a.messages[1].content.empty());
}

TEMPLATE_TEST_CASE("conversations: unknown ids and bad input are told apart", "[conversation]",
                   sqlite_backend, postgres_backend) {
  TestType backend;
  auto store = open_or_skip(backend);
  if (!store) return;
  auto none = store->get_conversation("acme", "never");
  REQUIRE(none);
  CHECK_FALSE(none->has_value());

  auto no_start = store->update_assistant_content(key("msg_x"), "text", message_status::complete);
  REQUIRE(no_start);
  CHECK(no_start->code == store_errc::bad_input);

  REQUIRE_FALSE(store->append_user_message(key("msg_u1"), "q", "r"));
  auto user_as_assistant = store->start_assistant_message(key("msg_u1"), {"p", "m", "r"});
  REQUIRE(user_as_assistant);
  CHECK(user_as_assistant->code == store_errc::bad_input);
  CHECK(store->update_assistant_content(key("msg_u1"), "x", message_status::complete));

  for (const auto& bad : {key(""), key("msg:1"), key("m", ""), key("m", "c", ""),
                          key("m", std::string(max_id_bytes + 1, 'c'))}) {
    auto e = store->append_user_message(bad, "x", "r");
    REQUIRE(e);
    CHECK(e->code == store_errc::bad_input);
  }
}

TEMPLATE_TEST_CASE("conversations: writers on several connections get distinct dense seqs",
                   "[conversation]", sqlite_backend, postgres_backend) {
  TestType backend;
  if (!open_or_skip(backend)) return;
  constexpr int writers = 4, per_writer = 8;
  std::vector<std::thread> threads;
  std::vector<std::string> errors(writers);
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      auto s = open_conversation_store(backend.url());  // one connection per "node"
      if (!s) {
        errors[w] = s.error().to_string();
        return;
      }
      for (int i = 0; i < per_writer; ++i) {
        auto id = "msg_" + std::to_string(w) + "_" + std::to_string(i);
        if (auto e = (*s)->append_user_message(key(id, "busy"), "x", "r")) {
          errors[w] = e->to_string();
          return;
        }
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors) CHECK(e.empty());
  auto store = open_conversation_store(backend.url());
  REQUIRE(store);
  auto c = must_get(**store, "acme", "busy");
  REQUIRE(c.messages.size() == writers * per_writer);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < c.messages.size(); ++i) {
    CHECK(c.messages[i].seq == static_cast<std::int64_t>(i + 1));
    ids.insert(c.messages[i].message_id);
  }
  CHECK(ids.size() == writers * per_writer);
}

TEMPLATE_TEST_CASE("conversations: the tables come with the ledger's migrations",
                   "[conversation]", sqlite_backend, postgres_backend) {
  TestType backend;
  if (!backend.available()) {
    WARN("SB_TEST_DATABASE_URL is not set: " << TestType::name << " SKIPPED");
    return;
  }
  // The ledger first (as the gateway opens it), then the conversations: one
  // schema, one migration history, both usable.
  auto ledger = open_ledger_store(backend.url());
  REQUIRE(ledger);
  auto store = open_conversation_store(backend.url());
  REQUIRE(store);
  REQUIRE_FALSE((*store)->append_user_message(key("msg_u1"), "q", "r"));
  CHECK_FALSE((*ledger)->ping());
  CHECK_FALSE((*store)->ping());
  auto usage = (*ledger)->aggregate("acme", "2025-03");
  REQUIRE(usage);
  // And in the other order, on a fresh database, the ledger still opens.
  TestType fresh;
  auto first = open_conversation_store(fresh.url());
  REQUIRE(first);
  CHECK(open_ledger_store(fresh.url()));
}
