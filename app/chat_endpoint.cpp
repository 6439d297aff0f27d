// POST /v1/chat/completions: authenticate, validate, pick the targets, and
// hand the request to a fresh session actor. Returns at once; the session
// answers on the responder.

#include <algorithm>
#include <set>
#include <string_view>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/session_actor.hpp"
#include "app/observed_responder.hpp"
#include "app/routes.hpp"
#include "cluster/conversation_message.hpp"
#include "core/request_id.hpp"
#include "core/target.hpp"
#include "core/token_estimate.hpp"
#include "core/workspace_auth.hpp"
#include "prompts/prompt_error.hpp"
#include "prompts/prompt_library.hpp"

namespace sb {
namespace {

/// The checks OpenAI itself makes before any model runs, so that a wrong
/// request costs no upstream call. Returns the first problem found.
std::optional<api_error> validate(const nlohmann::json& body) {
  if (!body.is_object()) return invalid_request("The request body must be a JSON object.");
  auto model = body.find("model");
  if (model == body.end() || !model->is_string() || model->get_ref<const std::string&>().empty())
    return invalid_request("`model` is required and must be a non-empty string.", "model");
  auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array() || messages->empty())
    return invalid_request("`messages` is required and must be a non-empty array.", "messages");
  // The error's texts are built only for a message that fails.
  auto param = [](std::size_t i) { return "messages[" + std::to_string(i) + "]"; };
  constexpr std::string_view roles[] = {"system", "developer", "user", "assistant", "tool", "function"};
  for (std::size_t i = 0; i < messages->size(); ++i) {
    auto& m = (*messages)[i];
    if (!m.is_object()) return invalid_request(param(i) + " must be an object.", param(i));
    auto role = m.find("role");
    if (role == m.end() || !role->is_string())
      return invalid_request(param(i) + ".role is required and must be a string.", param(i) + ".role");
    const std::string_view r = role->get_ref<const std::string&>();
    if (std::find(std::begin(roles), std::end(roles), r) == std::end(roles))
      return invalid_request(param(i) + ".role must be one of system, developer, user, assistant, tool.",
                             param(i) + ".role");
  }
  if (auto s = body.find("stream"); s != body.end() && !s->is_boolean() && !s->is_null())
    return invalid_request("`stream` must be a boolean.", "stream");
  if (auto s = body.find("stream_options"); s != body.end() && !s->is_object() && !s->is_null())
    return invalid_request("`stream_options` must be an object.", "stream_options");
  for (const char* k : {"max_tokens", "max_completion_tokens"}) {
    auto v = body.find(k);
    if (v != body.end() && !v->is_null() && (!v->is_number_integer() || v->get<std::int64_t>() < 1))
      return invalid_request(std::string("`") + k + "` must be a positive integer.", k);
  }
  if (auto t = body.find("temperature"); t != body.end() && !t->is_null() &&
                                         (!t->is_number() || t->get<double>() < 0 || t->get<double>() > 2))
    return invalid_request("`temperature` must be a number between 0 and 2.", "temperature");
  if (auto s = body.find("stop"); s != body.end() && !s->is_null() && !s->is_string() && !s->is_array())
    return invalid_request("`stop` must be a string or an array of strings.", "stop");
  if (auto t = body.find("tools"); t != body.end() && !t->is_null() && !t->is_array())
    return invalid_request("`tools` must be an array.", "tools");
  if (auto p = body.find("prompt"); p != body.end()) {
    if (!p->is_object() || !p->contains("id") || !(*p)["id"].is_string())
      return invalid_request("`prompt` must be an object with a string `id` (and optional `version` "
                             "and `variables`).", "prompt");
    if (auto v = p->find("variables"); v != p->end() && !v->is_object() && !v->is_null())
      return invalid_request("`prompt.variables` must be an object.", "prompt.variables");
  }
  if (auto g = body.find("gateway_tools"); g != body.end() && !g->is_null()) {
    if (!g->is_array())
      return invalid_request("`gateway_tools` must be an array of registry tool names.", "gateway_tools");
    for (auto& n : *g)
      if (!n.is_string() || n.get_ref<const std::string&>().empty())
        return invalid_request("`gateway_tools` must be an array of registry tool names.", "gateway_tools");
  }
  return std::nullopt;
}

std::string end_user(const nlohmann::json& body, const net::http_request& req) {
  if (auto u = body.find("user"); u != body.end() && u->is_string() && !u->get_ref<const std::string&>().empty())
    return u->get<std::string>();
  if (auto h = req.header("x-user-id"); h && !h->empty()) return std::string(*h);
  return "anonymous";
}

}  // namespace

void handle_chat_completions(const app_context& app, net::http_request& req,
                             std::shared_ptr<observed_responder> out) {
  auto request_id = new_request_id();
  const auto& cfg = *app.gateway->config;

  auto who = authenticate(cfg, req.header("authorization"));
  if (auto* e = std::get_if<api_error>(&who)) return respond_error(*out, *e, request_id);
  const auto* workspace = std::get<const workspace_config*>(who);
  out->set_workspace(workspace->id);

  auto body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded())
    return respond_error(*out,
                         invalid_request("We could not parse the JSON body of your request: it is "
                                         "not valid JSON.", std::nullopt, "invalid_json"),
                         request_id);
  if (auto e = validate(body)) return respond_error(*out, *e, request_id);

  if (cfg.providers.empty()) return respond_error(*out, no_providers_configured(), request_id);

  auto fallback = req.header("x-gateway-fallback");
  auto selected = select_targets(cfg, body["model"].get<std::string>(),
                                 !(fallback && *fallback == "none"));
  if (auto* e = std::get_if<api_error>(&selected)) return respond_error(*out, *e, request_id);

  actors::chat_job job;
  bool body_is_text = true;  // `body` is still exactly the parse of req.body
  // SPEC 9: registry tools are offered to the model beside the client's own,
  // and the session runs the loop (ADR-0013).
  if (auto g = body.find("gateway_tools"); g != body.end()) {
    std::vector<std::string> names;
    if (g->is_array()) {
      auto registry = app.tools ? app.tools->get() : nullptr;
      std::set<std::string> client_names;
      if (auto t = body.find("tools"); t != body.end() && t->is_array())
        for (auto& d : *t)
          if (d.is_object() && d.contains("function") && d["function"].is_object())
            client_names.insert(d["function"].value("name", ""));
      for (auto& n : *g) {
        auto name = n.get<std::string>();
        if (std::find(names.begin(), names.end(), name) != names.end()) continue;
        if (!registry || !registry->find(name))
          return respond_error(*out, invalid_request("Unknown gateway tool '" + name + "': no tool of "
                                                     "that name is configured.", "gateway_tools",
                                                     "unknown_gateway_tool"), request_id);
        if (client_names.count(name))
          return respond_error(*out, invalid_request("The tool '" + name + "' is both in `tools` and in "
                                                     "`gateway_tools`; name it once.", "tools"),
                               request_id);
        names.push_back(std::move(name));
      }
      if (!names.empty()) {
        auto& tools = body["tools"];
        if (!tools.is_array()) tools = nlohmann::json::array();
        for (auto& name : names) tools.push_back(*registry->openai_tool_definition(name));
        actors::tool_loop_job tl;
        tl.registry = std::move(registry);
        tl.names = std::move(names);
        tl.confirmations = app.confirmations;
        tl.confirmation_ttl = app.confirmation_ttl;
        job.tools = std::move(tl);
      }
    }
    body.erase("gateway_tools");
    body_is_text = false;
  }
  auto user = end_user(body, req);
  if (auto p = body.find("prompt"); p != body.end()) {
    // The rendered version becomes the first system message (SPEC 8).
    auto version = prompts::parse_requested_version(p->value("version", nlohmann::json()));
    if (!version) return respond_error(*out, prompts::to_api_error(version.error()), request_id);
    auto rendered = app.prompts->get()->render((*p)["id"].get<std::string>(), user, version.value(),
                                               p->value("variables", nlohmann::json::object()));
    if (!rendered) return respond_error(*out, prompts::to_api_error(rendered.error()), request_id);
    auto& r = rendered.value();
    auto& messages = body["messages"];
    messages.insert(messages.begin(), nlohmann::json{{"role", "system"}, {"content", r.text}});
    body.erase("prompt");
    body_is_text = false;
    job.prompt_id = r.name;
    job.prompt_version = r.version;
    job.extra_headers.emplace_back("x-gateway-prompt", r.header_value());
  }
  job.request_id = std::move(request_id);
  job.stream = body.value("stream", false);
  if (auto so = body.find("stream_options"); so != body.end() && so->is_object())
    job.include_usage = so->value("include_usage", false);
  job.targets = std::move(std::get<std::vector<target>>(selected));
  job.workspace = workspace->id;
  job.user = std::move(user);
  // SPEC 7: log the exchange in this workspace's conversation.
  if (auto conv = req.header("x-conversation-id"); conv && !conv->empty()) {
    if (auto bad = cluster::check_conversation_id(workspace->id, std::string(*conv)))
      return respond_error(*out, invalid_request("X-Conversation-Id: " + bad->message), job.request_id);
    job.conversation_id = std::string(*conv);
  }

  // SPEC 6: the reservation is the prompt estimate plus the most the answer
  // may cost (max_tokens, else the configured default), priced at the first
  // target's rates; it is settled to the real usage when the session ends.
  job.caps.tokens = cfg.token_cap_for(*workspace);
  if (workspace->monthly_cost_cap_usd)
    job.caps.cost_micros = static_cast<std::int64_t>(*workspace->monthly_cost_cap_usd * 1e6);
  job.prompt_estimate = estimate_prompt_tokens(body);
  std::int64_t answer_budget = cfg.quota.default_reservation_tokens;
  for (const char* k : {"max_completion_tokens", "max_tokens"})
    if (auto v = body.find(k); v != body.end() && v->is_number_integer()) answer_budget = v->get<std::int64_t>();
  job.reservation.tokens = job.prompt_estimate + answer_budget;
  auto& first = job.targets.front();
  job.reservation.cost_micros =
      app.gateway->prices.cost(first.provider, first.model, job.prompt_estimate, answer_budget).micros;
  job.body = std::move(body);
  if (body_is_text) job.body_text = std::move(req.body);
  actors::spawn_session(*app.system, app.gateway, std::move(job), std::move(out));
}

}  // namespace sb
