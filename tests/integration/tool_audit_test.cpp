// Issue 8: every decision on a sensitive tool is on record in the ledger
// database (table tool_audit) with its approver, through a real SQLite and
// a real PostgreSQL ledger, and listed by GET /v1/tool-confirmations?status=.

#include <thread>

#include "cluster/open_ledger_store.hpp"
#include "tests/cluster/ledger_backends.hpp"
#include "tests/integration/tool_loop_fixture.hpp"

namespace {

json listed(loop_setup& s, const std::string& status, const headers& h = acme) {
  auto r = http_request(s.gw.port(), "GET", "/v1/tool-confirmations?status=" + status, {}, h);
  REQUIRE(r.status == 200);
  return json::parse(r.body)["data"];
}

std::string pause_refund(loop_setup& s, std::string* request_id = nullptr) {
  s.fake.script(calls("refund_order", R"({"order_id":"o-42"})"));
  auto r = s.ask({"refund_order"});
  REQUIRE(r.status == 200);
  if (request_id) *request_id = r.header("x-request-id");
  return json::parse(r.body)["gateway"]["pending_confirmation"]["id"].get<std::string>();
}

/// Approve one, refuse another, and read both back: from the endpoint and
/// straight from the database the gateway wrote to.
void approve_refuse_and_read_back(const std::string& database_url) {
  loop_setup s(json::object(), "openai", {{"DATABASE_URL", database_url}});
  std::string request_id;
  auto approved_id = pause_refund(s, &request_id);
  s.fake.script(says("Refunded."));
  REQUIRE(s.decide(approved_id, true).status == 200);
  auto refused_id = pause_refund(s);
  s.fake.script(says("Not refunded."));
  REQUIRE(s.decide(refused_id, false).status == 200);
  REQUIRE(s.tools.call_count("/refund") == 1);

  auto approved = listed(s, "approved");
  REQUIRE(approved.size() == 1);
  CHECK(approved[0]["id"] == approved_id);
  CHECK(approved[0]["status"] == "approved");
  CHECK(approved[0]["approver"] == "alice");
  CHECK(approved[0]["tool"] == "refund_order");
  CHECK(approved[0]["arguments"] == json{{"order_id", "o-42"}});
  CHECK(approved[0]["request_id"] == request_id);
  CHECK(approved[0]["outcome"] == "ok");
  CHECK(approved[0]["decided_at"].get<std::int64_t>() >= approved[0]["created_at"].get<std::int64_t>());
  auto refused = listed(s, "refused");
  REQUIRE(refused.size() == 1);
  CHECK(refused[0]["id"] == refused_id);
  CHECK(refused[0]["approver"] == "alice");
  CHECK(refused[0]["outcome"] == "not_run");
  CHECK(listed(s, "approved", globex).empty());  // another workspace sees none of it
  CHECK(http_request(s.gw.port(), "GET", "/v1/tool-confirmations?status=maybe", {}, acme).status == 400);

  auto store = sb::cluster::open_ledger_store(database_url);
  REQUIRE(store);
  auto rows = store.value()->tool_audits({"acme", std::nullopt, 10});
  REQUIRE(rows);
  REQUIRE(rows->size() == 2);
  for (auto& row : *rows) {
    CHECK(row.workspace_id == "acme");
    CHECK(row.approver == "alice");
    CHECK(json::parse(row.arguments) == json{{"order_id", "o-42"}});
    if (row.confirmation_id == approved_id) {
      CHECK(row.decision == sb::cluster::tool_decision::approved);
      CHECK(row.outcome == "ok");
    } else {
      CHECK(row.confirmation_id == refused_id);
      CHECK(row.decision == sb::cluster::tool_decision::refused);
    }
  }
}

}  // namespace

TEST_CASE("tool audit: approvals and refusals are recorded with their approver in a SQLite ledger") {
  sb::test::sqlite_backend db;
  approve_refuse_and_read_back(db.url());
}

TEST_CASE("tool audit: approvals and refusals are recorded with their approver in a PostgreSQL ledger") {
  sb::test::postgres_backend db;
  if (!db.available()) {
    WARN("SB_TEST_DATABASE_URL is not set: the PostgreSQL audit test needs it (tests/services.sh); SKIPPED");
    return;
  }
  approve_refuse_and_read_back(db.url());
}

TEST_CASE("tool audit: an attempt on an expired confirmation is recorded as expired and nothing runs") {
  loop_setup s(json{{"tool_confirmations", {{"expiry_ms", 200}}}});
  auto id = pause_refund(s);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  REQUIRE(s.decide(id, true).status == 410);
  json expired;
  for (int i = 0; i < 50 && expired.empty(); ++i) {  // written after the 410 went out
    expired = listed(s, "expired");
    if (expired.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(expired.size() == 1);
  CHECK(expired[0]["id"] == id);
  CHECK(expired[0]["approver"] == "alice");
  CHECK(expired[0]["outcome"] == "not_run");
  CHECK(s.tools.call_count() == 0);
}
