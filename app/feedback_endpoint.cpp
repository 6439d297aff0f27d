// POST /v1/feedback {"request_id", "score"} (SPEC 8): a score for a request
// the caller's workspace made, read by GET /v1/prompts/{name}/stats.
//
// score: a JSON number in [-1, 1] (thumbs down -1, up 1, anything between
// for finer scales), because a mean is only comparable across versions when
// every client scores on one scale. One score per (workspace, request); a
// second replaces the first, so a user who changes their mind counts once.
// A request_id the workspace's ledger does not hold is a 404, whether it does
// not exist or belongs to another workspace (no probing of others' ids).

#include <cmath>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/metering_messages.hpp"
#include "app/endpoint_actor.hpp"
#include "app/routes.hpp"
#include "app/workspace_scope.hpp"
#include "cluster/billing_period.hpp"

namespace sb {
namespace {

constexpr double min_score = -1.0;
constexpr double max_score = 1.0;
constexpr std::size_t max_request_id_bytes = 200;  // ours are ~30; a bound stops junk keys

std::variant<cluster::feedback_record, api_error> parse_feedback(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return invalid_request("The body must be a JSON object: {\"request_id\": \"...\", \"score\": 1}.",
                           std::nullopt, "invalid_json");
  auto id = j.find("request_id");
  if (id == j.end() || !id->is_string() || id->get<std::string>().empty() ||
      id->get<std::string>().size() > max_request_id_bytes)
    return invalid_request("`request_id` must be the x-request-id of one of your requests.", "request_id");
  auto score = j.find("score");
  // is_number() excludes booleans: true is not a score.
  if (score == j.end() || !score->is_number() || !std::isfinite(score->get<double>()) ||
      score->get<double>() < min_score || score->get<double>() > max_score)
    return invalid_request("`score` must be a number from -1 to 1.", "score");
  cluster::feedback_record f;
  f.request_id = id->get<std::string>();
  f.score = score->get<double>();
  f.recorded_at_ms = cluster::now_ms();
  return f;
}

}  // namespace

void handle_feedback(const app_context& app, net::http_request& req, std::shared_ptr<net::responder> out) {
  auto ws = own_workspace_of(app, req);
  if (auto* e = std::get_if<api_error>(&ws)) return respond_error(*out, *e);
  auto parsed = parse_feedback(req.body);
  if (auto* e = std::get_if<api_error>(&parsed)) return respond_error(*out, *e);
  auto record = std::get<cluster::feedback_record>(parsed);
  record.workspace_id = std::get<std::string>(ws);

  auto ledger = app.gateway->ledger;
  app.system->spawn([=](caf::event_based_actor* self) -> caf::behavior {
    self->request(ledger, std::chrono::seconds(10), actors::feedback_atom::value, record)
        .then(
            [=](actors::feedback_reply& r) {
              if (r.error)
                respond_error(*out, store_api_error("The usage store", *r.error));
              else if (!r.found)
                respond_error(*out, api_error{404, "invalid_request_error", "request_not_found",
                                              "Workspace '" + record.workspace_id + "' has no request '" +
                                                  record.request_id + "' in its usage ledger.",
                                              "request_id"});
              else
                respond_json(*out, 200,
                             nlohmann::json{{"object", "feedback"},
                                            {"request_id", record.request_id},
                                            {"workspace", record.workspace_id},
                                            {"score", record.score}}
                                 .dump());
              self->quit();
            },
            [=](caf::error& e) {
              respond_error(*out, store_api_error("The usage store",
                                                  {cluster::store_errc::unavailable, self->system().render(e)}));
              self->quit();
            });
    return keep_alive_until_answered();
  });
}

}  // namespace sb
