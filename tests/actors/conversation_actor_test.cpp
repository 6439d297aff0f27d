// The conversation actor over a real SQLite store: what the session sends
// (user message, reply start, deltas, finish) ends up in the database,
// coalesced to at most one write per persist_every while streaming, at once
// on finish or cancel, kept while the database is down, and written as
// partial when the node stops mid-reply.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "tests/actors/actor_test_support.hpp"
#include "actors/conversation_actor.hpp"
#include "cluster/open_conversation_store.hpp"

using namespace sb::actors;
using namespace sb::cluster;
using namespace std::chrono_literals;
using sb::testing::eventually;

namespace {

/// A real store that counts content updates and can be switched "down".
class counting_store final : public conversation_store {
 public:
  explicit counting_store(std::shared_ptr<conversation_store> real) : real_(std::move(real)) {}
  std::atomic<bool> down{false};
  std::atomic<int> updates{0};
  std::atomic<int> starts{0};

  store_status append_user_message(const message_key& k, const std::string& c,
                                   const std::string& r) override {
    if (down) return outage();
    return real_->append_user_message(k, c, r);
  }
  store_status start_assistant_message(const message_key& k, const message_origin& o,
                                       const std::string& i) override {
    if (down) return outage();
    ++starts;
    return real_->start_assistant_message(k, o, i);
  }
  store_status update_assistant_content(const message_key& k, const std::string& c,
                                        message_status s) override {
    if (down) return outage();
    ++updates;
    return real_->update_assistant_content(k, c, s);
  }
  store_result<std::optional<conversation_record>> get_conversation(const std::string& w,
                                                                    const std::string& c) override {
    if (down) return outage();
    return real_->get_conversation(w, c);
  }
  store_result<std::optional<stored_message>> get_message(const message_key& k) override {
    if (down) return outage();
    return real_->get_message(k);
  }
  store_status ping() override { return down ? store_status(outage()) : real_->ping(); }
  const char* backend() const override { return real_->backend(); }

 private:
  static store_error outage() { return make_store_error(store_errc::unavailable, "database down (test)"); }
  std::shared_ptr<conversation_store> real_;
};

struct temp_db {
  std::string path;
  temp_db() {
    std::mt19937_64 rng{std::random_device{}()};
    path = "/tmp/sb-conversation-actor-" + std::to_string(rng()) + ".db";
  }
  ~temp_db() {
    for (const char* ext : {"", "-wal", "-shm"}) std::remove((path + ext).c_str());
  }
  std::shared_ptr<conversation_store> open() const {
    auto s = open_conversation_store(path);
    REQUIRE(s);
    return *s;
  }
};

struct actor_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  actor_fixture() {
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.console", caf::atom("none"));
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

const message_key user_key{"acme", "conv-1", "msg_u"};
const message_key reply_key{"acme", "conv-1", "msg_a"};

/// What another connection (another node) reads from the database.
std::optional<stored_message> in_database(const temp_db& db, const message_key& key) {
  auto m = db.open()->get_message(key);
  REQUIRE(m);
  return *m;
}

conversation_reply get(caf::scoped_actor& self, const conversation_actor& a,
                       const std::string& workspace, const std::string& id) {
  conversation_reply out;
  self->request(a, 5s, conv_get_atom::value, workspace, id)
      .receive([&](conversation_reply& r) { out = std::move(r); },
               [&](caf::error& e) { FAIL(self->system().render(e)); });
  return out;
}

conversation_stats flush(caf::scoped_actor& self, const conversation_actor& a) {
  conversation_stats out;
  self->request(a, 5s, flush_atom::value)
      .receive([&](conversation_stats& s) { out = s; },
               [&](caf::error& e) { FAIL(self->system().render(e)); });
  return out;
}

}  // namespace

TEST_CASE_METHOD(actor_fixture, "conversation actor logs the question and the streamed answer",
                 "[conversation_actor]") {
  temp_db db;
  auto actor = spawn_conversation_actor(*sys, db.open());
  caf::scoped_actor self{*sys};
  self->send(actor, conv_user_atom::value, user_key, std::string("What is 6*7?"), std::string("req_1"));
  self->send(actor, conv_start_atom::value, reply_key, message_origin{"openai", "gpt-4o", "req_1"},
             std::string());
  for (const char* piece : {"The ", "answer ", "is ", "42."})
    self->send(actor, conv_delta_atom::value, reply_key, std::string(piece));
  self->send(actor, conv_finish_atom::value, reply_key, message_status::complete);

  auto r = get(self, actor, "acme", "conv-1");
  REQUIRE_FALSE(r.error);
  REQUIRE(r.conversation);
  REQUIRE(r.conversation->messages.size() == 2);
  CHECK(r.conversation->messages[0].content == "What is 6*7?");
  CHECK(r.conversation->messages[0].role == message_role::user);
  CHECK(r.conversation->messages[1].content == "The answer is 42.");
  CHECK(r.conversation->messages[1].status == message_status::complete);
  CHECK(r.conversation->messages[1].origin.model == "gpt-4o");
  // Finish writes at once: another node reads it without any flush.
  auto m = in_database(db, reply_key);
  REQUIRE(m);
  CHECK(m->content == "The answer is 42.");
  CHECK(m->status == message_status::complete);

  // Another workspace asking for the same id: not found.
  auto other = get(self, actor, "globex", "conv-1");
  CHECK_FALSE(other.error);
  CHECK_FALSE(other.conversation);
  self->send_exit(actor, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(actor_fixture, "conversation actor writes a streaming reply at most every persist_every",
                 "[conversation_actor]") {
  temp_db db;
  auto store = std::make_shared<counting_store>(db.open());
  conversation_actor_options opts;
  opts.writing.persist_every = 100ms;
  auto actor = spawn_conversation_actor(*sys, store, opts);
  caf::scoped_actor self{*sys};
  self->send(actor, conv_start_atom::value, reply_key, message_origin{"openai", "m", "req_1"},
             std::string());
  auto t0 = std::chrono::steady_clock::now();
  std::string sent;
  for (int i = 0; i < 100; ++i) {
    auto piece = "t" + std::to_string(i) + " ";
    sent += piece;
    self->send(actor, conv_delta_atom::value, reply_key, piece);
    std::this_thread::sleep_for(4ms);
  }
  auto streamed_for = std::chrono::steady_clock::now() - t0;
  // While it streams, the database holds a prefix, in progress.
  CHECK(eventually([&] {
    auto m = in_database(db, reply_key);
    return m && m->content == sent;
  }, 1s));
  auto mid = in_database(db, reply_key);
  REQUIRE(mid);
  CHECK(mid->status == message_status::in_progress);
  const int allowed = static_cast<int>(streamed_for / 100ms) + 2;
  CHECK(store->updates.load() <= allowed);
  CHECK(store->updates.load() >= 2);

  // The reader on this node sees the unsaved text too.
  self->send(actor, conv_delta_atom::value, reply_key, std::string("end"));
  auto r = get(self, actor, "acme", "conv-1");
  REQUIRE(r.conversation);
  CHECK(r.conversation->messages.back().content == sent + "end");
  CHECK(r.conversation->messages.back().status == message_status::in_progress);

  // A cancel writes the partial text at once.
  const int before = store->updates;
  self->send(actor, conv_finish_atom::value, reply_key, message_status::partial);
  CHECK(eventually([&] {
    auto m = in_database(db, reply_key);
    return m && m->status == message_status::partial;
  }, 500ms));
  CHECK(in_database(db, reply_key)->content == sent + "end");
  CHECK(store->updates - before == 1);
  CHECK(flush(self, actor).pending == 0);
  self->send_exit(actor, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(actor_fixture, "conversation actor keeps writes while the database is down",
                 "[conversation_actor]") {
  temp_db db;
  auto store = std::make_shared<counting_store>(db.open());
  store->down = true;
  conversation_actor_options opts;
  opts.writing.persist_every = 20ms;
  opts.writing.first_pause = 20ms;
  opts.writing.max_pause = 100ms;
  auto actor = spawn_conversation_actor(*sys, store, opts);
  caf::scoped_actor self{*sys};
  self->send(actor, conv_user_atom::value, user_key, std::string("q"), std::string("req_1"));
  self->send(actor, conv_start_atom::value, reply_key, message_origin{"openai", "m", "req_1"},
             std::string());
  self->send(actor, conv_delta_atom::value, reply_key, std::string("half an"));
  self->send(actor, conv_finish_atom::value, reply_key, message_status::partial);
  auto s = flush(self, actor);
  CHECK(s.pending == 2);
  CHECK(s.failed_writes >= 1);
  CHECK_FALSE(s.last_error.empty());
  CHECK(s.dropped == 0);

  store->down = false;
  CHECK(eventually([&] { return flush(self, actor).pending == 0; }));
  auto c = db.open()->get_conversation("acme", "conv-1");
  REQUIRE(c);
  REQUIRE(c->has_value());
  REQUIRE((*c)->messages.size() == 2);
  CHECK((*c)->messages[0].message_id == "msg_u");  // the question keeps its place
  CHECK((*c)->messages[1].content == "half an");
  CHECK((*c)->messages[1].status == message_status::partial);
  CHECK(flush(self, actor).last_error.empty());
  self->send_exit(actor, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(actor_fixture, "conversation actor writes unfinished replies as partial when it stops",
                 "[conversation_actor]") {
  temp_db db;
  conversation_actor_options opts;
  opts.writing.persist_every = 1h;  // only the exit will write the text
  auto actor = spawn_conversation_actor(*sys, db.open(), opts);
  caf::scoped_actor self{*sys};
  self->send(actor, conv_start_atom::value, reply_key, message_origin{"openai", "m", "req_1"},
             std::string());
  self->send(actor, conv_delta_atom::value, reply_key, std::string("cut short"));
  self->send_exit(actor, caf::exit_reason::user_shutdown);
  self->wait_for(actor);
  auto m = in_database(db, reply_key);
  REQUIRE(m);
  CHECK(m->content == "cut short");
  CHECK(m->status == message_status::partial);
}

TEST_CASE_METHOD(actor_fixture, "conversation actor resumes a partial reply from its stored text",
                 "[conversation_actor]") {
  temp_db db;
  auto actor = spawn_conversation_actor(*sys, db.open());
  caf::scoped_actor self{*sys};
  self->send(actor, conv_start_atom::value, reply_key, message_origin{"openai", "m", "req_1"},
             std::string());
  self->send(actor, conv_delta_atom::value, reply_key, std::string("Once upon"));
  self->send(actor, conv_finish_atom::value, reply_key, message_status::partial);
  // The resume: another request continues the same message.
  self->send(actor, conv_start_atom::value, reply_key, message_origin{"anthropic", "c", "req_2"},
             std::string());
  self->send(actor, conv_delta_atom::value, reply_key, std::string(" a time."));
  self->send(actor, conv_finish_atom::value, reply_key, message_status::complete);

  message_reply r;
  self->request(actor, 5s, conv_message_atom::value, reply_key)
      .receive([&](message_reply& m) { r = std::move(m); },
               [&](caf::error& e) { FAIL(sys->render(e)); });
  REQUIRE(r.message);
  CHECK(r.message->content == "Once upon a time.");
  CHECK(r.message->status == message_status::complete);
  CHECK(r.message->origin.provider == "anthropic");
  auto m = in_database(db, reply_key);
  REQUIRE(m);
  CHECK(m->content == "Once upon a time.");
  self->send_exit(actor, caf::exit_reason::user_shutdown);
}
