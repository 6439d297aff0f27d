#pragma once
// Which workspace a read or write of per-workspace data is about (SPEC 6 and
// 8): a workspace token names its own; the admin token reads any with
// ?workspace=ID. Shared by the usage, prompt stats and feedback endpoints.

#include <string>
#include <variant>

#include "app/query_string.hpp"
#include "app/routes.hpp"

namespace sb {

/// The workspace a GET may read: its own token, or the admin token naming one.
std::variant<std::string, api_error> readable_workspace_of(const app_context& app,
                                                           net::http_request& req,
                                                           const query_params& q);

/// The workspace a write belongs to: a workspace token only (open mode:
/// "default"). The admin token is refused: feedback is the workspace's word.
std::variant<std::string, api_error> own_workspace_of(const app_context& app, net::http_request& req);

/// ?period=YYYY-MM, else the current UTC month; 400 when malformed.
std::variant<std::string, api_error> period_of_query(const query_params& q);

/// A store failure as the API reports it: bad_input 400, else 503.
api_error store_api_error(const std::string& what, const cluster::store_error& e);

}  // namespace sb
