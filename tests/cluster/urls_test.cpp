#include <catch2/catch.hpp>

#include "cluster/open_ledger_store.hpp"
#include "cluster/redis_connection.hpp"

using namespace sb::cluster;

TEST_CASE("DATABASE_URL picks the ledger backend", "[urls]") {
  auto def = parse_database_url("");
  REQUIRE(def);
  CHECK(def->backend == ledger_backend::sqlite);
  CHECK(def->target == "./switchboard.db");

  auto abs = parse_database_url("sqlite:///var/lib/sb/ledger.db");
  REQUIRE(abs);
  CHECK(abs->backend == ledger_backend::sqlite);
  CHECK(abs->target == "/var/lib/sb/ledger.db");

  auto path = parse_database_url("data/ledger.db");
  REQUIRE(path);
  CHECK(path->target == "data/ledger.db");

  for (const char* pg : {"postgresql://u:p@db:5432/sb", "postgres://db/sb"}) {
    auto l = parse_database_url(pg);
    REQUIRE(l);
    CHECK(l->backend == ledger_backend::postgresql);
    CHECK(l->target == pg);
  }

  auto bad = parse_database_url("mysql://db/sb");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == store_errc::bad_url);
  CHECK_FALSE(parse_database_url("sqlite://"));
}

TEST_CASE("REDIS_URL is read into an endpoint", "[urls]") {
  auto plain = parse_redis_url("redis://127.0.0.1:6390");
  REQUIRE(plain);
  CHECK(plain->host == "127.0.0.1");
  CHECK(plain->port == 6390);
  CHECK(plain->db == 0);
  CHECK(plain->password.empty());

  auto full = parse_redis_url("redis://user:s3cret@cache.internal:7000/2");
  REQUIRE(full);
  CHECK(full->host == "cache.internal");
  CHECK(full->port == 7000);
  CHECK(full->db == 2);
  CHECK(full->password == "s3cret");

  auto defaults = parse_redis_url("redis://cache");
  REQUIRE(defaults);
  CHECK(defaults->port == 6379);

  for (const char* bad : {"http://x", "redis://h:port", "redis://h:0", "redis://h:70000", "redis://h/x"})
    CHECK_FALSE(parse_redis_url(bad));
}

TEST_CASE("open_ledger_store refuses an unknown scheme and an unreachable server", "[urls]") {
  auto bad = open_ledger_store("mysql://x/y");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == store_errc::bad_url);
  // Port 1 on loopback: nobody listens; refused at once.
  auto down = open_ledger_store("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2");
  REQUIRE_FALSE(down);
  CHECK(down.error().code == store_errc::unavailable);
}
