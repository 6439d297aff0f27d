#pragma once
// What the conversation endpoints (GET, stream, resume) share.

#include <string>
#include <variant>

#include "app/routes.hpp"
#include "cluster/store_error.hpp"
#include "core/workspace_auth.hpp"

namespace sb {

/// The caller's workspace (its token; open mode: "default").
std::variant<std::string, api_error> conversation_workspace(const app_context& app,
                                                            net::http_request& req);
api_error conversation_store_failure(const cluster::store_error& e);
api_error conversation_not_found(const std::string& id);
api_error message_not_found(const std::string& conversation_id, const std::string& message_id);

}  // namespace sb
