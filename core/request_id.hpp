#pragma once
// Request ids for x-request-id, the ledger and logs.

#include <string>

namespace sb {

/// "req_" + 24 lowercase hex characters (96 random bits): collisions are
/// negligible across a cluster's lifetime. Cheap: no syscall per call.
std::string new_request_id();

}  // namespace sb
