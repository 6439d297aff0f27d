// The stream journal, local and Redis (SB_TEST_REDIS_URL, tests/services.sh;
// without it a WARN says the Redis half was skipped). The property that
// matters: a reader that replays with read_after and then follows with
// wait_for_more gets every event once, in order — also when the writer and
// the reader are two "nodes" (two journal instances on one Redis).

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

#include <hiredis/hiredis.h>

#include "cluster/local_stream_journal.hpp"
#include "cluster/open_stream_journal.hpp"
#include "cluster/redis_stream_journal.hpp"

using namespace sb::cluster;
using namespace std::chrono_literals;

namespace {

const char* redis_url() {
  const char* u = std::getenv("SB_TEST_REDIS_URL");
  return u && *u ? u : nullptr;
}

std::vector<std::string> backends() {
  if (redis_url()) return {"local", "redis"};
  WARN("SB_TEST_REDIS_URL is not set: the redis half of the journal suite is SKIPPED");
  return {"local"};
}

stream_journal_factory factory(const std::string& backend, stream_journal_options o = {}) {
  auto f = open_stream_journal(backend == "redis" ? redis_url() : "", o);
  REQUIRE(f);
  return *f;
}

std::string fresh_id() {
  static std::atomic<int> n{0};
  return new_message_id() + "_" + std::to_string(++n);
}

std::string data_of(std::uint64_t seq) { return "{\"n\":" + std::to_string(seq) + "}"; }

/// Replays from after_seq, then follows until finished; the seqs seen.
std::vector<std::uint64_t> follow(stream_journal& j, const std::string& id, std::uint64_t after,
                                  message_status* status = nullptr) {
  std::vector<std::uint64_t> seen;
  auto r = j.read_after(id, after, 7);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (r && std::chrono::steady_clock::now() < deadline) {
    for (const auto& e : r->events) {
      CHECK(e.data == data_of(e.seq));
      seen.push_back(e.seq);
      after = e.seq;
    }
    if (r->state == journal_state::finished) {
      if (status) *status = r->final_status;
      return seen;
    }
    r = j.wait_for_more(id, after, 200ms, 7);
  }
  FAIL("the reader did not reach the end: " << (r ? "timeout" : r.error().to_string()));
  return seen;
}

std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> v;
  for (auto s = from; s <= to; ++s) v.push_back(s);
  return v;
}

}  // namespace

TEST_CASE("journal: replay then finish") {
  auto backend = GENERATE(from_range(backends()));
  SECTION(backend) {
    auto j = factory(backend)();
    auto id = fresh_id();
    auto unknown = j->read_after(id, 0, 10);
    REQUIRE(unknown);
    CHECK(unknown->state == journal_state::unknown);

    for (std::uint64_t s = 1; s <= 5; ++s) REQUIRE_FALSE(j->append(id, s, data_of(s)));
    REQUIRE_FALSE(j->append(id, 3, "a retried append"));  // ignored

    auto all = j->read_after(id, 0, 100);
    REQUIRE(all);
    CHECK(all->state == journal_state::live);
    REQUIRE(all->events.size() == 5);
    CHECK(all->events[2].data == data_of(3));
    CHECK_FALSE(all->truncated);

    auto some = j->read_after(id, 3, 1);
    REQUIRE(some);
    REQUIRE(some->events.size() == 1);
    CHECK(some->events[0].seq == 4);
    CHECK(some->state == journal_state::live);

    REQUIRE_FALSE(j->finish(id, message_status::partial));
    REQUIRE_FALSE(j->finish(id, message_status::complete));  // the first finish stands
    auto rest = j->read_after(id, 3, 100);
    REQUIRE(rest);
    REQUIRE(rest->events.size() == 2);
    CHECK(rest->state == journal_state::finished);
    CHECK(rest->final_status == message_status::partial);
    auto cut = j->read_after(id, 3, 2);  // exactly to the end
    REQUIRE(cut);
    auto after_cut = j->read_after(id, 5, 2);
    REQUIRE(after_cut);
    CHECK(after_cut->events.empty());
    CHECK(after_cut->state == journal_state::finished);
  }
}

TEST_CASE("journal: a stream finished without events is finished") {
  auto backend = GENERATE(from_range(backends()));
  SECTION(backend) {
    auto j = factory(backend)();
    auto id = fresh_id();
    REQUIRE_FALSE(j->finish(id, message_status::partial));
    auto r = j->wait_for_more(id, 0, 1s, 10);
    REQUIRE(r);
    CHECK(r->events.empty());
    CHECK(r->state == journal_state::finished);
  }
}

TEST_CASE("journal: an append after finish reopens the stream for a resume") {
  auto backend = GENERATE(from_range(backends()));
  SECTION(backend) {
    auto j = factory(backend)();
    auto id = fresh_id();
    for (std::uint64_t s = 1; s <= 3; ++s) REQUIRE_FALSE(j->append(id, s, data_of(s)));
    REQUIRE_FALSE(j->finish(id, message_status::partial));
    REQUIRE_FALSE(j->append(id, 4, data_of(4)));
    auto r = j->read_after(id, 0, 100);
    REQUIRE(r);
    CHECK(r->events.size() == 4);
    CHECK(r->state == journal_state::live);
    REQUIRE_FALSE(j->append(id, 5, data_of(5)));
    REQUIRE_FALSE(j->finish(id, message_status::complete));
    message_status status = message_status::in_progress;
    CHECK(follow(*j, id, 0, &status) == range(1, 5));
    CHECK(status == message_status::complete);
  }
}

TEST_CASE("journal: wait_for_more wakes on the next event and times out when none comes") {
  auto backend = GENERATE(from_range(backends()));
  SECTION(backend) {
    auto make = factory(backend);
    auto writer = make();
    auto reader = make();
    auto id = fresh_id();
    REQUIRE_FALSE(writer->append(id, 1, data_of(1)));

    auto t0 = std::chrono::steady_clock::now();
    auto idle = reader->wait_for_more(id, 1, 150ms, 10);
    REQUIRE(idle);
    CHECK(idle->events.empty());
    CHECK(idle->state == journal_state::live);
    CHECK(std::chrono::steady_clock::now() - t0 >= 100ms);

    std::thread later([&] {
      std::this_thread::sleep_for(100ms);
      auto w = make();  // the writer's own connection, as on its node
      w->append(id, 2, data_of(2));
    });
    t0 = std::chrono::steady_clock::now();
    auto woke = reader->wait_for_more(id, 1, 1500ms, 10);
    auto waited = std::chrono::steady_clock::now() - t0;
    later.join();
    REQUIRE(woke);
    REQUIRE(woke->events.size() == 1);
    CHECK(woke->events[0].seq == 2);
    CHECK(waited < 1000ms);
  }
}

TEST_CASE("journal: a reader waiting before the first event gets it") {
  auto backend = GENERATE(from_range(backends()));
  SECTION(backend) {
    auto make = factory(backend);
    auto id = fresh_id();
    std::thread writer([&] {
      std::this_thread::sleep_for(100ms);
      auto w = make();
      w->append(id, 1, data_of(1));
      w->finish(id, message_status::complete);
    });
    auto r = make();
    auto seen = follow(*r, id, 0);
    writer.join();
    CHECK(seen == range(1, 1));
  }
}

TEST_CASE("journal: replay plus live tail has no gap and no duplicate across two nodes") {
  auto backend = GENERATE(from_range(backends()));
  SECTION(backend) {
    auto make = factory(backend);
    const std::uint64_t total = 300;
    auto id = fresh_id();
    std::atomic<std::uint64_t> written{0};
    std::thread node_a([&] {  // generates
      auto j = make();
      for (std::uint64_t s = 1; s <= total; ++s) {
        REQUIRE_FALSE(j->append(id, s, data_of(s)));
        written = s;
        if (s % 20 == 0) std::this_thread::sleep_for(2ms);
      }
      REQUIRE_FALSE(j->finish(id, message_status::complete));
    });
    // Readers that reattach at different moments, with different Last-Event-IDs.
    std::vector<std::vector<std::uint64_t>> seen(3);
    std::vector<std::uint64_t> from(3);
    std::vector<std::thread> node_b;
    for (int i = 0; i < 3; ++i)
      node_b.emplace_back([&, i] {
        while (written < static_cast<std::uint64_t>(i) * 100) std::this_thread::yield();
        from[i] = written / 2;
        auto j = make();
        seen[i] = follow(*j, id, from[i]);
      });
    node_a.join();
    for (auto& t : node_b) t.join();
    for (int i = 0; i < 3; ++i) {
      INFO("reader " << i << " from " << from[i]);
      CHECK(seen[i] == range(from[i] + 1, total));
    }
  }
}

TEST_CASE("journal: a finished stream is forgotten after the grace") {
  auto backend = GENERATE(from_range(backends()));
  SECTION(backend) {
    stream_journal_options o;
    o.grace = 150ms;
    auto j = factory(backend, o)();
    auto id = fresh_id();
    REQUIRE_FALSE(j->append(id, 1, data_of(1)));
    REQUIRE_FALSE(j->finish(id, message_status::complete));
    auto kept = j->read_after(id, 0, 10);
    REQUIRE(kept);
    CHECK(kept->state == journal_state::finished);
    std::this_thread::sleep_for(600ms);
    auto gone = j->read_after(id, 0, 10);
    REQUIRE(gone);
    CHECK(gone->state == journal_state::unknown);
    CHECK(gone->events.empty());
  }
}

TEST_CASE("journal: local memory is bounded per message and in total") {
  stream_journal_options o;
  o.max_bytes_per_message = 2000;
  o.max_total_bytes = 3500;
  local_stream_journal j(o);
  const std::string kb(500, 'x');
  for (std::uint64_t s = 1; s <= 20; ++s) REQUIRE_FALSE(j.append("big", s, kb));
  auto r = j.read_after("big", 0, 100);
  REQUIRE(r);
  CHECK(r->truncated);  // the oldest went: a reader from 0 is told
  REQUIRE_FALSE(r->events.empty());
  CHECK(r->events.back().seq == 20);
  CHECK(r->events.front().seq > 1);
  auto recent = j.read_after("big", 18, 100);
  REQUIRE(recent);
  CHECK_FALSE(recent->truncated);
  CHECK(recent->events.size() == 2);
  CHECK(j.bytes() <= 2000);

  // Over the total (3 events of "big" + 1 of "done" + 3 of "live" > 3500),
  // finished streams go first.
  REQUIRE_FALSE(j.append("done", 1, kb));
  REQUIRE_FALSE(j.finish("done", message_status::complete));
  for (std::uint64_t s = 1; s <= 3; ++s) REQUIRE_FALSE(j.append("live", s, kb));
  CHECK(j.bytes() <= 3500);
  CHECK(j.read_after("done", 0, 10)->state == journal_state::unknown);
  CHECK(j.read_after("live", 0, 10)->events.size() == 3);
  CHECK(j.read_after("big", 0, 10)->events.size() == 3);
}

TEST_CASE("journal: an unfinished local stream is dropped after abandoned_after") {
  stream_journal_options o;
  o.abandoned_after = 100ms;
  local_stream_journal j(o);
  REQUIRE_FALSE(j.append("orphan", 1, "x"));
  std::this_thread::sleep_for(400ms);
  CHECK(j.read_after("orphan", 0, 10)->state == journal_state::unknown);
  CHECK(j.streams() == 0);
}

TEST_CASE("journal: redis keys carry a TTL and trimmed replays say so", "[redis]") {
  if (!redis_url()) {
    WARN("SB_TEST_REDIS_URL is not set: SKIPPED");
    return;
  }
  stream_journal_options o;
  o.max_events_per_message = 10;
  o.abandoned_after = 60s;
  o.grace = 5s;
  auto ep = parse_redis_url(redis_url());
  REQUIRE(ep);
  redis_stream_journal j(*ep, o);
  redis_connection raw(*ep, {});
  auto id = fresh_id();
  for (std::uint64_t s = 1; s <= 500; ++s) REQUIRE_FALSE(j.append(id, s, data_of(s)));
  auto ttl = raw.command({"PTTL", redis_stream_journal::key_of(id)}, true);
  REQUIRE(ttl);
  CHECK((*ttl)->integer > 50000);
  auto r = j.read_after(id, 0, 1000);
  REQUIRE(r);
  CHECK(r->truncated);
  CHECK(r->events.size() < 500);
  CHECK(r->events.back().seq == 500);
  auto recent = j.read_after(id, 495, 100);
  REQUIRE(recent);
  CHECK_FALSE(recent->truncated);
  CHECK(recent->events.size() == 5);

  REQUIRE_FALSE(j.finish(id, message_status::complete));
  ttl = raw.command({"PTTL", redis_stream_journal::key_of(id)}, true);
  REQUIRE(ttl);
  CHECK((*ttl)->integer <= 5000);
  CHECK((*ttl)->integer > 0);
}

TEST_CASE("journal: an unreachable redis is an unavailable error", "[redis]") {
  stream_journal_options o;
  o.redis.connect_timeout = 200ms;
  o.max_block = 100ms;
  redis_stream_journal j({"127.0.0.1", 1, "", 0}, o);  // nothing listens on port 1
  auto e = j.append("m", 1, "x");
  REQUIRE(e);
  CHECK(e->code == store_errc::unavailable);
  auto r = j.wait_for_more("m", 0, 50ms, 10);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == store_errc::unavailable);
}
