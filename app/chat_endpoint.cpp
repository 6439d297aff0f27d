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
#include "core/chat_body.hpp"
#include "core/token_estimate.hpp"
#include "core/workspace_auth.hpp"
#include "prompts/prompt_error.hpp"
#include "prompts/prompt_library.hpp"
#include "providers/chat_request_scan.hpp"

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
  if (auto s = body.find("stream_options"); s != body.end() && s->is_object())
    if (auto u = s->find("include_usage"); u != s->end() && !u->is_boolean() && !u->is_null())
      return invalid_request("`stream_options.include_usage` must be a boolean.", "stream_options.include_usage");
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

/// The end user when the body names none: X-User-Id, else anonymous.
std::string header_user(const net::http_request& req) {
  if (auto h = req.header("x-user-id"); h && !h->empty()) return std::string(*h);
  return "anonymous";
}

std::string end_user(const nlohmann::json& body, const net::http_request& req) {
  if (auto u = body.find("user"); u != body.end() && u->is_string() && !u->get_ref<const std::string&>().empty())
    return u->get<std::string>();
  return header_user(req);
}

/// What the handler needs of the body, whichever way it was read.
struct body_facts {
  std::string model;
  std::string user;
  std::optional<std::int64_t> answer_budget;  // max_tokens, else max_completion_tokens
};

/// A plain request (providers/chat_request_scan.hpp): its facts from the
/// scan, its text kept as the body, no tree built.
body_facts read_plain(providers::plain_chat_request plain, net::http_request& req, actors::chat_job& job) {
  body_facts f;
  f.model = std::move(plain.model);
  f.user = plain.user.empty() ? header_user(req) : std::move(plain.user);
  f.answer_budget = plain.max_tokens ? plain.max_tokens : plain.max_completion_tokens;
  job.stream = plain.stream;
  job.include_usage = plain.include_usage;
  job.prompt_estimate = estimate_prompt_tokens(plain.prompt_chars, plain.messages);
  job.body = chat_body::from_text(std::move(req.body));
  return f;
}

/// The rest of a tree-read request, after its targets were chosen: registry
/// tools (SPEC 9), the prompt (SPEC 8), stream options and the estimate.
std::optional<api_error> finish_tree(const app_context& app, nlohmann::json body, net::http_request& req,
                                     actors::chat_job& job, body_facts& f) {
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
          return invalid_request("Unknown gateway tool '" + name + "': no tool of that name is configured.",
                                 "gateway_tools", "unknown_gateway_tool");
        if (client_names.count(name))
          return invalid_request("The tool '" + name + "' is both in `tools` and in `gateway_tools`; name it once.",
                                 "tools");
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
  f.user = end_user(body, req);
  if (auto p = body.find("prompt"); p != body.end()) {
    // The rendered version becomes the first system message (SPEC 8).
    auto version = prompts::parse_requested_version(p->value("version", nlohmann::json()));
    if (!version) return prompts::to_api_error(version.error());
    auto rendered = app.prompts->get()->render((*p)["id"].get<std::string>(), f.user, version.value(),
                                               p->value("variables", nlohmann::json::object()));
    if (!rendered) return prompts::to_api_error(rendered.error());
    auto& r = rendered.value();
    auto& messages = body["messages"];
    messages.insert(messages.begin(), nlohmann::json{{"role", "system"}, {"content", r.text}});
    body.erase("prompt");
    body_is_text = false;
    job.prompt_id = r.name;
    job.prompt_version = r.version;
    job.extra_headers.emplace_back("x-gateway-prompt", r.header_value());
  }
  // validate() allowed null for both: null is false.
  if (auto s = body.find("stream"); s != body.end() && s->is_boolean()) job.stream = s->get<bool>();
  if (auto so = body.find("stream_options"); so != body.end() && so->is_object())
    if (auto iu = so->find("include_usage"); iu != so->end() && iu->is_boolean()) job.include_usage = iu->get<bool>();
  job.prompt_estimate = estimate_prompt_tokens(body);
  for (const char* k : {"max_completion_tokens", "max_tokens"})
    if (auto v = body.find(k); v != body.end() && v->is_number_integer()) f.answer_budget = v->get<std::int64_t>();
  job.body = body_is_text ? chat_body::from_text(std::move(req.body)) : chat_body(std::move(body));
  return std::nullopt;
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

  // Most requests are plain and read by a scan; the rest (and every invalid
  // one, whose error the checks below word) are parsed into a tree.
  actors::chat_job job;
  body_facts facts;
  auto plain = providers::scan_plain_chat_request(req.body);
  nlohmann::json body;
  if (plain) {
    facts.model = plain->model;
  } else {
    body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded())
      return respond_error(*out,
                           invalid_request("We could not parse the JSON body of your request: it is "
                                           "not valid JSON.", std::nullopt, "invalid_json"),
                           request_id);
    if (auto e = validate(body)) return respond_error(*out, *e, request_id);
    facts.model = body["model"].get<std::string>();
  }

  if (cfg.providers.empty()) return respond_error(*out, no_providers_configured(), request_id);

  auto fallback = req.header("x-gateway-fallback");
  auto selected = select_targets(cfg, facts.model, !(fallback && *fallback == "none"));
  if (auto* e = std::get_if<api_error>(&selected)) return respond_error(*out, *e, request_id);

  if (plain)
    facts = read_plain(std::move(*plain), req, job);
  else if (auto e = finish_tree(app, std::move(body), req, job, facts))
    return respond_error(*out, *e, request_id);

  job.request_id = std::move(request_id);
  job.targets = std::move(std::get<std::vector<target>>(selected));
  job.workspace = workspace->id;
  job.user = std::move(facts.user);
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
  const std::int64_t answer_budget = facts.answer_budget.value_or(cfg.quota.default_reservation_tokens);
  job.reservation.tokens = job.prompt_estimate + answer_budget;
  auto& first = job.targets.front();
  job.reservation.cost_micros =
      app.gateway->prices.cost(first.provider, first.model, job.prompt_estimate, answer_budget).micros;
  actors::spawn_session(*app.system, app.gateway, std::move(job), std::move(out));
}

}  // namespace sb
