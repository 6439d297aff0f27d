#pragma once
// Request ids for x-request-id, the ledger and logs.

#include <string>

namespace sb {

/// "req_" + 28 lowercase hex characters: 12 of the Unix time in milliseconds,
/// then 16 random (64 bits; two ids of the same millisecond collide with
/// negligible odds across a cluster's lifetime). Ids sort by creation time.
/// Cheap: no syscall per call.
std::string new_request_id();

}  // namespace sb
