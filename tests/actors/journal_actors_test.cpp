// The journal writer and a reattached reader (the tail), local and Redis
// (SB_TEST_REDIS_URL; without it a WARN says the Redis half was skipped):
// the tail delivers every event after the client's Last-Event-ID once, in
// order, then the end; and it can run on another "node" than the writer.

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "tests/actors/actor_test_support.hpp"
#include "actors/journal_tail_actor.hpp"
#include "actors/journal_writer_actor.hpp"
#include "cluster/open_stream_journal.hpp"

using namespace sb::actors;
using namespace sb::cluster;
using namespace std::chrono_literals;
using sb::testing::eventually;

namespace {

const char* redis_url() {
  const char* u = std::getenv("SB_TEST_REDIS_URL");
  return u && *u ? u : nullptr;
}

std::vector<std::string> backends() {
  if (redis_url()) return {"local", "redis"};
  WARN("SB_TEST_REDIS_URL is not set: the redis half of the journal actor tests is SKIPPED");
  return {"local"};
}

struct actor_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  actor_fixture() {
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.console", caf::atom("none"));
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

/// What a tail handed to its sink.
struct collected {
  std::mutex mu;
  std::vector<std::uint64_t> seqs;
  std::optional<journal_tail_result> end;
  std::atomic<std::size_t> backlog{0};

  journal_sink sink() {
    journal_sink s;
    s.deliver = [this](std::vector<journal_event> events) {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& e : events) seqs.push_back(e.seq);
    };
    s.done = [this](journal_tail_result r) {
      std::lock_guard<std::mutex> lock(mu);
      end = r;
    };
    s.backlog_bytes = [this] { return backlog.load(); };
    return s;
  }
  bool ended() {
    std::lock_guard<std::mutex> lock(mu);
    return end.has_value();
  }
  std::size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return seqs.size();
  }
};

std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> v;
  for (auto s = from; s <= to; ++s) v.push_back(s);
  return v;
}

}  // namespace

TEST_CASE_METHOD(actor_fixture, "journal tail replays after Last-Event-ID then follows to the end") {
  auto backend = GENERATE(from_range(backends()));
  SECTION(backend) {
    auto journals = open_stream_journal(backend == "redis" ? redis_url() : "");
    REQUIRE(journals);
    auto writer = spawn_journal_writer(*sys, (*journals)());  // node A
    caf::scoped_actor self{*sys};
    const std::string id = new_message_id();
    for (std::uint64_t s = 1; s <= 10; ++s)
      self->send(writer, journal_append_atom::value, id, s, "{\"n\":" + std::to_string(s) + "}");
    self->request(writer, 5s, flush_atom::value)
        .receive([&](journal_writer_stats& s) { CHECK(s.appended == 10); },
                 [&](caf::error& e) { FAIL(sys->render(e)); });

    collected got;  // node B: its own journal instance (connection)
    auto tail = spawn_journal_tail(*sys, *journals, id, 4, got.sink());
    CHECK(eventually([&] { return got.count() == 6; }));
    for (std::uint64_t s = 11; s <= 40; ++s)
      self->send(writer, journal_append_atom::value, id, s, std::string("x"));
    self->send(writer, journal_finish_atom::value, id, message_status::complete);
    CHECK(eventually([&] { return got.ended(); }));
    self->wait_for(tail);
    std::lock_guard<std::mutex> lock(got.mu);
    CHECK(got.seqs == range(5, 40));
    REQUIRE(got.end);
    CHECK(got.end->how == journal_tail_end::finished);
    CHECK(got.end->status == message_status::complete);
    self->send_exit(writer, caf::exit_reason::user_shutdown);
  }
}

TEST_CASE_METHOD(actor_fixture, "journal tail pauses while its client is behind and stops when told") {
  auto journals = open_stream_journal("");
  REQUIRE(journals);
  auto journal = (*journals)();
  const std::string id = new_message_id();
  for (std::uint64_t s = 1; s <= 5; ++s) REQUIRE_FALSE(journal->append(id, s, "x"));
  collected got;
  got.backlog = 1u << 20;  // the client is not reading
  auto tail = spawn_journal_tail(*sys, *journals, id, 0, got.sink());
  std::this_thread::sleep_for(150ms);
  CHECK(got.count() == 0);
  got.backlog = 0;
  CHECK(eventually([&] { return got.count() == 5; }));
  caf::scoped_actor self{*sys};
  self->send_exit(tail, caf::exit_reason::user_shutdown);  // the client went away
  auto t0 = std::chrono::steady_clock::now();
  self->wait_for(tail);
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);
  CHECK_FALSE(got.ended());
}

TEST_CASE_METHOD(actor_fixture, "journal tail ends as unknown for a stream nobody journals") {
  auto journals = open_stream_journal("");
  REQUIRE(journals);
  collected got;
  journal_tail_options o;
  o.start_timeout = 200ms;
  o.poll = 50ms;
  auto tail = spawn_journal_tail(*sys, *journals, "msg_never", 0, got.sink(), o);
  CHECK(eventually([&] { return got.ended(); }, 2s));
  std::lock_guard<std::mutex> lock(got.mu);
  REQUIRE(got.end);
  CHECK(got.end->how == journal_tail_end::unknown);
}

TEST_CASE_METHOD(actor_fixture, "journal tail says truncated when the missed events were dropped") {
  stream_journal_options small;
  small.max_events_per_message = 3;
  auto journals = open_stream_journal("", small);
  REQUIRE(journals);
  auto journal = (*journals)();
  const std::string id = new_message_id();
  for (std::uint64_t s = 1; s <= 10; ++s) REQUIRE_FALSE(journal->append(id, s, "x"));
  collected got;
  spawn_journal_tail(*sys, *journals, id, 2, got.sink());
  CHECK(eventually([&] { return got.ended(); }));
  std::lock_guard<std::mutex> lock(got.mu);
  CHECK(got.seqs.empty());
  CHECK(got.end->how == journal_tail_end::truncated);
}
