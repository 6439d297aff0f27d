#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "actors/ledger_actor.hpp"
#include "cluster/billing_period.hpp"
#include "cluster/open_ledger_store.hpp"

using namespace sb::actors;
using namespace sb::cluster;
using namespace std::chrono_literals;

namespace {

/// A real SQLite store that can be switched "down" like a database outage.
class flaky_store final : public ledger_store {
 public:
  explicit flaky_store(std::shared_ptr<ledger_store> real) : real_(std::move(real)) {}
  std::atomic<bool> down{false};
  std::atomic<int> appends{0};

  store_status migrate() override { return real_->migrate(); }
  store_status append(const std::vector<usage_row>& rows) override {
    ++appends;
    if (down) return make_store_error(store_errc::unavailable, "database down (test)");
    return real_->append(rows);
  }
  store_result<usage_summary> aggregate(const std::string& w, const std::string& p) override {
    if (down) return make_store_error(store_errc::unavailable, "database down (test)");
    return real_->aggregate(w, p);
  }
  store_result<std::vector<usage_row>> events(const std::string& w, const std::string& p) override {
    if (down) return make_store_error(store_errc::unavailable, "database down (test)");
    return real_->events(w, p);
  }
  store_status ping() override {
    if (down) return make_store_error(store_errc::unavailable, "database down (test)");
    return real_->ping();
  }
  const char* backend() const override { return real_->backend(); }

 private:
  std::shared_ptr<ledger_store> real_;
};

struct temp_db {
  std::string path;
  temp_db() {
    std::mt19937_64 rng{std::random_device{}()};
    path = "/tmp/sb-ledger-actor-" + std::to_string(rng()) + ".db";
  }
  ~temp_db() {
    for (const char* ext : {"", "-wal", "-shm"}) std::remove((path + ext).c_str());
  }
  std::shared_ptr<ledger_store> open() const {
    auto s = open_ledger_store(path);
    REQUIRE(s);
    return *s;
  }
};

struct actor_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  actor_fixture() {
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

usage_row row(int i, const std::string& workspace = "acme") {
  usage_row r;
  r.timestamp_ms = now_ms();
  r.request_id = "req_" + std::to_string(i);
  r.user_id = "u";
  r.workspace_id = workspace;
  r.provider = "openai";
  r.model = "gpt-4o-mini";
  r.prompt_tokens = 10;
  r.completion_tokens = 5;
  r.attempt = 1;
  return r;
}

ledger_stats stats(caf::scoped_actor& self, const ledger_actor& ledger) {
  ledger_stats out;
  self->request(ledger, 5s, stats_atom::value).receive([&](ledger_stats& s) { out = s; },
                                                       [&](caf::error& e) { FAIL(self->system().render(e)); });
  return out;
}

/// Polls until `pred` holds or `budget` runs out.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds budget = 3000ms) {
  auto end = std::chrono::steady_clock::now() + budget;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

}  // namespace

TEST_CASE_METHOD(actor_fixture, "ledger actor writes rows within one flush interval", "[ledger_actor]") {
  temp_db db;
  auto counters = std::make_shared<ledger_counters>();
  ledger_actor_options opts;
  opts.batching.flush_interval = 50ms;
  auto ledger = spawn_ledger_actor(*sys, db.open(), opts, counters);
  caf::scoped_actor self{*sys};
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 7; ++i) self->send(ledger, append_atom::value, row(i));
  CHECK(eventually([&] { return counters->written == 7; }));
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);
  CHECK(counters->buffered == 0);
  auto s = stats(self, ledger);
  CHECK(s.written == 7);
  CHECK(s.last_error.empty());
  // Another connection sees them: they are committed, not just buffered.
  auto rows = db.open()->events("acme", current_period());
  REQUIRE(rows);
  CHECK(rows->size() == 7);
  self->send_exit(ledger, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(actor_fixture, "ledger actor flushes at once when a batch is full", "[ledger_actor]") {
  temp_db db;
  auto counters = std::make_shared<ledger_counters>();
  ledger_actor_options opts;
  opts.batching.flush_interval = 1h;  // the timer will not do it
  opts.batching.batch_rows = 10;
  auto ledger = spawn_ledger_actor(*sys, db.open(), opts, counters);
  caf::scoped_actor self{*sys};
  std::vector<usage_row> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(row(i));
  self->send(ledger, append_atom::value, batch);
  CHECK(eventually([&] { return counters->written == 10; }, 2000ms));
  self->send_exit(ledger, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(actor_fixture, "ledger actor keeps rows while the database is down and writes them when it returns",
                 "[ledger_actor]") {
  temp_db db;
  auto store = std::make_shared<flaky_store>(db.open());
  store->down = true;
  auto counters = std::make_shared<ledger_counters>();
  ledger_actor_options opts;
  opts.batching.flush_interval = 20ms;
  opts.batching.max_retry_interval = 100ms;
  auto ledger = spawn_ledger_actor(*sys, store, opts, counters);
  caf::scoped_actor self{*sys};
  for (int i = 0; i < 25; ++i) self->send(ledger, append_atom::value, row(i));
  CHECK(eventually([&] { return counters->failed_flushes >= 2; }));
  CHECK(counters->buffered == 25);
  CHECK(counters->written == 0);
  auto s = stats(self, ledger);
  CHECK(s.buffered == 25);
  CHECK_FALSE(s.last_error.empty());
  // Reads fail as values while it is down.
  self->request(ledger, 5s, aggregate_atom::value, std::string("acme"), current_period())
      .receive([&](usage_summary_reply& r) {
                 REQUIRE(r.error);
                 CHECK(r.error->code == store_errc::unavailable);
               },
               [&](caf::error& e) { FAIL(sys->render(e)); });
  self->request(ledger, 5s, health_atom::value)
      .receive([&](store_health& h) { CHECK(h.error); }, [&](caf::error& e) { FAIL(sys->render(e)); });

  store->down = false;
  CHECK(eventually([&] { return counters->written == 25; }));
  CHECK(counters->buffered == 0);
  CHECK(counters->dropped == 0);
  CHECK(stats(self, ledger).last_error.empty());
  self->send_exit(ledger, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(actor_fixture, "ledger actor's backlog is bounded and counts what it drops", "[ledger_actor]") {
  temp_db db;
  auto store = std::make_shared<flaky_store>(db.open());
  store->down = true;
  auto counters = std::make_shared<ledger_counters>();
  ledger_actor_options opts;
  opts.batching.max_backlog = 5;
  opts.drain_timeout = 50ms;
  auto ledger = spawn_ledger_actor(*sys, store, opts, counters);
  caf::scoped_actor self{*sys};
  for (int i = 0; i < 8; ++i) self->send(ledger, append_atom::value, row(i));
  CHECK(eventually([&] { return counters->dropped == 3; }));
  CHECK(counters->buffered == 5);
  self->send_exit(ledger, caf::exit_reason::user_shutdown);
  self->wait_for(ledger);
  CHECK(counters->dropped == 8);  // shutdown with the database still down: counted, logged
}

TEST_CASE_METHOD(actor_fixture, "ledger actor writes every waiting row when told to exit", "[ledger_actor]") {
  temp_db db;
  auto counters = std::make_shared<ledger_counters>();
  ledger_actor_options opts;
  opts.batching.flush_interval = 1h;  // only the exit can write them
  opts.batching.batch_rows = 1000;
  auto ledger = spawn_ledger_actor(*sys, db.open(), opts, counters);
  {
    caf::scoped_actor self{*sys};
    for (int i = 0; i < 300; ++i) self->send(ledger, append_atom::value, row(i));
    self->send_exit(ledger, caf::exit_reason::user_shutdown);  // SIGTERM's path
    self->wait_for(ledger);
  }
  CHECK(counters->written == 300);
  auto rows = db.open()->events("acme", current_period());
  REQUIRE(rows);
  CHECK(rows->size() == 300);
}

TEST_CASE_METHOD(actor_fixture, "ledger actor's reads see its own writes", "[ledger_actor]") {
  temp_db db;
  ledger_actor_options opts;
  opts.batching.flush_interval = 1h;
  auto ledger = spawn_ledger_actor(*sys, db.open(), opts);
  caf::scoped_actor self{*sys};
  std::vector<usage_row> rows = {row(1), row(2), row(3, "other")};
  self->send(ledger, append_atom::value, rows);
  self->request(ledger, 5s, aggregate_atom::value, std::string("acme"), current_period())
      .receive(
          [&](usage_summary_reply& r) {
            REQUIRE_FALSE(r.error);
            CHECK(r.summary.requests == 2);
            CHECK(r.summary.total_tokens == 30);
          },
          [&](caf::error& e) { FAIL(sys->render(e)); });
  self->request(ledger, 5s, events_atom::value, std::string("other"), current_period())
      .receive([&](usage_events_reply& r) { CHECK(r.rows.size() == 1); },
               [&](caf::error& e) { FAIL(sys->render(e)); });
  self->request(ledger, 5s, events_atom::value, std::string("acme"), std::string("bad"))
      .receive(
          [&](usage_events_reply& r) {
            REQUIRE(r.error);
            CHECK(r.error->code == store_errc::bad_input);
          },
          [&](caf::error& e) { FAIL(sys->render(e)); });
  self->request(ledger, 5s, flush_atom::value)
      .receive([&](ledger_stats& s) { CHECK(s.written == 3); }, [&](caf::error& e) { FAIL(sys->render(e)); });
  self->request(ledger, 5s, health_atom::value)
      .receive(
          [&](store_health& h) {
            CHECK_FALSE(h.error);
            CHECK(h.backend == "sqlite");
          },
          [&](caf::error& e) { FAIL(sys->render(e)); });
  self->send_exit(ledger, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(actor_fixture, "ledger actor takes rows from its inbox with one nudge for many rows", "[ledger_actor]") {
  temp_db db;
  auto counters = std::make_shared<ledger_counters>();
  ledger_actor_options opts;
  opts.batching.flush_interval = 50ms;
  opts.inbox = std::make_shared<ledger_inbox>();
  auto inbox = opts.inbox;
  auto ledger = spawn_ledger_actor(*sys, db.open(), opts, counters);
  caf::scoped_actor self{*sys};
  int nudges = 0;
  for (int i = 0; i < 50; ++i) {
    if (inbox->add(row(i))) {
      ++nudges;
      self->send(ledger, append_atom::value, std::vector<usage_row>{});
    }
  }
  CHECK(nudges == 1);  // the rows behind the first wait for the actor's tick
  CHECK(eventually([&] { return counters->written == 50; }));
  // The next row after a drain finds the inbox empty: it nudges again.
  CHECK(inbox->add(row(100)));
  self->send(ledger, append_atom::value, std::vector<usage_row>{});
  CHECK(eventually([&] { return counters->written == 51; }));
  self->send_exit(ledger, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(actor_fixture, "ledger actor writes a full batch from its inbox without waiting for the tick", "[ledger_actor]") {
  temp_db db;
  auto counters = std::make_shared<ledger_counters>();
  ledger_actor_options opts;
  opts.batching.flush_interval = 1h;  // the tick never comes: only the full batch can write
  opts.batching.batch_rows = 10;
  opts.inbox = std::make_shared<ledger_inbox>(opts.batching.batch_rows);
  auto inbox = opts.inbox;
  auto ledger = spawn_ledger_actor(*sys, db.open(), opts, counters);
  caf::scoped_actor self{*sys};
  std::vector<int> nudged_at;
  for (int i = 1; i <= 25; ++i) {
    if (inbox->add(row(i))) {
      nudged_at.push_back(i);
      self->send(ledger, append_atom::value, std::vector<usage_row>{});
    }
  }
  CHECK(nudged_at == std::vector<int>{1, 10, 20});
  // The nudges may find more rows than the batch: they take them all.
  CHECK(eventually([&] { return counters->written >= 20; }));
  self->send_exit(ledger, caf::exit_reason::user_shutdown);
  self->wait_for(ledger);
  CHECK(counters->written == 25);
}

TEST_CASE_METHOD(actor_fixture, "ledger actor writes the rows of its inbox when told to exit", "[ledger_actor]") {
  temp_db db;
  auto counters = std::make_shared<ledger_counters>();
  ledger_actor_options opts;
  opts.batching.flush_interval = 1h;  // only the exit can write them
  opts.inbox = std::make_shared<ledger_inbox>();
  auto inbox = opts.inbox;
  auto ledger = spawn_ledger_actor(*sys, db.open(), opts, counters);
  {
    caf::scoped_actor self{*sys};
    for (int i = 0; i < 200; ++i) inbox->add(row(i));  // no nudge at all
    self->send_exit(ledger, caf::exit_reason::user_shutdown);
    self->wait_for(ledger);
  }
  CHECK(counters->written == 200);
  auto rows = db.open()->events("acme", current_period());
  REQUIRE(rows);
  CHECK(rows->size() == 200);
}
