// The HTTP control endpoints, so that another process (the Node SDK test, the
// benchmark, a person with curl) can script and inspect a standalone fake.

#include <nlohmann/json.hpp>

#include "tests/fakes/request_router.hpp"

namespace sb::fakes {

namespace {

nlohmann::json request_json(const recorded_request& r, std::chrono::steady_clock::time_point started) {
  return {{"method", r.method},
          {"target", r.target},
          {"headers", r.headers},
          {"body", r.body},
          {"format", r.format ? wire_format_name(*r.format) : nullptr},
          {"api_key", r.api_key},
          {"connection_id", r.connection_id},
          {"received_ms",
           std::chrono::duration<double, std::milli>(r.received_at - started).count()}};
}

reply_plan bad_request(const std::string& message) {
  return json_plan(400, nlohmann::json{{"error", message}}.dump());
}

reply_plan script(provider_state& state, const recorded_request& request) {
  const auto body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded()) return bad_request("body is not JSON");
  const auto items = body.is_array() ? body : nlohmann::json::array({body});
  // Parse all before queueing any: a bad array queues nothing.
  std::vector<std::pair<std::string, scripted_reply>> parsed;
  try {
    for (const auto& item : items) {
      std::string key = item.is_object() && item.contains("key") && item["key"].is_string()
                            ? item["key"].get<std::string>()
                            : std::string();
      parsed.emplace_back(std::move(key), from_json(item));
    }
  } catch (const std::invalid_argument& e) {
    return bad_request(e.what());
  }
  for (auto& [key, reply] : parsed) {
    if (key.empty())
      state.push_script(std::move(reply));
    else
      state.push_script_for_key(key, std::move(reply));
  }
  return json_plan(200, nlohmann::json{{"queued", parsed.size()}}.dump());
}

}  // namespace

reply_plan answer_control(provider_state& state, const recorded_request& request) {
  const std::string path = request.target.substr(0, request.target.find('?'));
  const bool post = request.method == "POST";
  const bool get = request.method == "GET";
  if (path == "/__fake/script" && post) return script(state, request);
  if (path == "/__fake/requests" && get) {
    auto out = nlohmann::json::array();
    for (const auto& r : state.received()) out.push_back(request_json(r, state.started_at()));
    return json_plan(200, out.dump());
  }
  if (path == "/__fake/reset" && post) {
    state.reset();
    return json_plan(200, R"({"ok":true})");
  }
  if (path == "/__fake/stats" && get) {
    return json_plan(200, nlohmann::json{{"connections_accepted", state.connections_accepted()},
                                         {"open_connections", state.open_connections()},
                                         {"connections_closed", state.connections_closed()},
                                         {"requests", state.request_count()}}
                              .dump());
  }
  return json_plan(404, nlohmann::json{{"error", "unknown control endpoint " + request.method + " " + path}}.dump());
}

}  // namespace sb::fakes
