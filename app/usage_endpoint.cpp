// GET /v1/usage and GET /v1/usage/events (SPEC 6): a workspace token reads
// its own workspace; the admin token reads any with &workspace=ID.

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/metering_messages.hpp"
#include "app/query_string.hpp"
#include "app/endpoint_actor.hpp"
#include "app/routes.hpp"
#include "app/workspace_scope.hpp"
#include "cluster/billing_period.hpp"

namespace sb {
namespace {

nlohmann::json summary_json(const cluster::usage_summary& s) {
  nlohmann::json by_model = nlohmann::json::array();
  for (auto& m : s.by_model)
    by_model.push_back({{"provider", m.provider}, {"model", m.model}, {"requests", m.requests},
                        {"upstream_calls", m.upstream_calls}, {"prompt_tokens", m.prompt_tokens},
                        {"completion_tokens", m.completion_tokens}, {"total_tokens", m.total_tokens},
                        {"cost_estimate_usd", m.cost_estimate_usd}});
  return {{"workspace", s.workspace}, {"period", s.period}, {"requests", s.requests},
          {"upstream_calls", s.upstream_calls}, {"prompt_tokens", s.prompt_tokens},
          {"completion_tokens", s.completion_tokens}, {"total_tokens", s.total_tokens},
          {"cost_estimate_usd", s.cost_estimate_usd}, {"by_model", std::move(by_model)}};
}

nlohmann::json row_json(const cluster::usage_row& r) {
  return {{"timestamp", r.timestamp_ms}, {"request_id", r.request_id}, {"user_id", r.user_id},
          {"workspace_id", r.workspace_id}, {"provider", r.provider}, {"model", r.model},
          {"prompt_tokens", r.prompt_tokens}, {"completion_tokens", r.completion_tokens},
          {"latency_ms", r.latency_ms}, {"cost_estimate_usd", r.cost_estimate_usd},
          {"status", cluster::to_string(r.status)},
          {"prompt_id", r.prompt_id.empty() ? nlohmann::json() : nlohmann::json(r.prompt_id)},
          {"prompt_version", r.prompt_version == 0 ? nlohmann::json() : nlohmann::json(r.prompt_version)},
          {"attempt", r.attempt}, {"estimated", r.estimated}};
}

/// RFC 4180: quote a field that holds a comma, quote or line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string rows_csv(const std::vector<cluster::usage_row>& rows) {
  std::string out =
      "timestamp,request_id,user_id,workspace_id,provider,model,prompt_tokens,completion_tokens,"
      "latency_ms,cost_estimate_usd,status,prompt_id,prompt_version,attempt,estimated\r\n";
  for (auto& r : rows) {
    char cost[32];
    std::snprintf(cost, sizeof cost, "%.8f", r.cost_estimate_usd);
    out += std::to_string(r.timestamp_ms) + "," + csv_field(r.request_id) + "," + csv_field(r.user_id) +
           "," + csv_field(r.workspace_id) + "," + csv_field(r.provider) + "," + csv_field(r.model) + "," +
           std::to_string(r.prompt_tokens) + "," + std::to_string(r.completion_tokens) + "," +
           std::to_string(r.latency_ms) + "," + cost + "," + cluster::to_string(r.status) + "," +
           csv_field(r.prompt_id) + "," + (r.prompt_version ? std::to_string(r.prompt_version) : "") +
           "," + std::to_string(r.attempt) + "," + (r.estimated ? "true" : "false") + "\r\n";
  }
  return out;
}

}  // namespace

void handle_usage(const app_context& app, net::http_request& req, std::shared_ptr<net::responder> out) {
  auto q = parse_query(req.query);
  auto ws = readable_workspace_of(app, req, q);
  if (auto* e = std::get_if<api_error>(&ws)) return respond_error(*out, *e);
  auto period = period_of_query(q);
  if (auto* e = std::get_if<api_error>(&period)) return respond_error(*out, *e);
  auto workspace = std::get<std::string>(ws);
  auto month = std::get<std::string>(period);

  const auto& cfg = *app.gateway->config;
  std::optional<std::int64_t> cap;
  if (auto* w = cfg.find_workspace(workspace)) cap = cfg.token_cap_for(*w);
  else if (cfg.open_mode()) cap = cfg.default_monthly_token_cap;

  auto ledger = app.gateway->ledger;
  auto quota = app.gateway->quota;
  app.system->spawn([=](caf::event_based_actor* self) -> caf::behavior {
    self->request(ledger, std::chrono::seconds(10), actors::aggregate_atom::value, workspace, month)
        .then(
            [=](actors::usage_summary_reply& r) {
              if (r.error) {
                respond_error(*out, store_api_error("The usage store", *r.error));
                return self->quit();
              }
              auto body = summary_json(r.summary);
              body["cap_tokens"] = cap ? nlohmann::json(*cap) : nlohmann::json();
              if (!cap) {
                body["remaining_tokens"] = nullptr;
                respond_json(*out, 200, body.dump());
                return self->quit();
              }
              // Remaining is what the cap counter says: it includes
              // reservations of requests still in flight.
              self->request(quota, std::chrono::seconds(5), actors::usage_atom::value, workspace, month)
                  .then(
                      [=](actors::quota_usage_reply& u) mutable {
                        auto used = u.error ? r.summary.total_tokens : u.used.tokens;
                        body["remaining_tokens"] = std::max<std::int64_t>(0, *cap - used);
                        respond_json(*out, 200, body.dump());
                        self->quit();
                      },
                      [=](caf::error&) mutable {
                        body["remaining_tokens"] = std::max<std::int64_t>(0, *cap - r.summary.total_tokens);
                        respond_json(*out, 200, body.dump());
                        self->quit();
                      });
            },
            [=](caf::error& e) {
              respond_error(*out, store_api_error("The usage store", {cluster::store_errc::unavailable, self->system().render(e)}));
              self->quit();
            });
    return keep_alive_until_answered();
  });
}

void handle_usage_events(const app_context& app, net::http_request& req,
                         std::shared_ptr<net::responder> out) {
  auto q = parse_query(req.query);
  auto ws = readable_workspace_of(app, req, q);
  if (auto* e = std::get_if<api_error>(&ws)) return respond_error(*out, *e);
  auto period = period_of_query(q);
  if (auto* e = std::get_if<api_error>(&period)) return respond_error(*out, *e);
  auto format = q.get("format").value_or("jsonl");
  if (format != "jsonl" && format != "csv")
    return respond_error(*out, invalid_request("`format` must be jsonl or csv.", "format"));

  auto ledger = app.gateway->ledger;
  auto workspace = std::get<std::string>(ws);
  auto month = std::get<std::string>(period);
  app.system->spawn([=](caf::event_based_actor* self) -> caf::behavior {
    self->request(ledger, std::chrono::seconds(30), actors::events_atom::value, workspace, month)
        .then(
            [=](actors::usage_events_reply& r) {
              if (r.error) {
                respond_error(*out, store_api_error("The usage store", *r.error));
                return self->quit();
              }
              if (format == "csv") {
                out->respond(200, {{"content-type", "text/csv; charset=utf-8"}}, rows_csv(r.rows));
              } else {
                std::string body;
                for (auto& row : r.rows) body += row_json(row).dump() + "\n";
                out->respond(200, {{"content-type", "application/x-ndjson"}}, std::move(body));
              }
              self->quit();
            },
            [=](caf::error& e) {
              respond_error(*out, store_api_error("The usage store", {cluster::store_errc::unavailable, self->system().render(e)}));
              self->quit();
            });
    return keep_alive_until_answered();
  });
}

}  // namespace sb
