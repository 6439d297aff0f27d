#pragma once
// One upstream call: connect (or take a pooled connection), send, stream the
// response back through the handlers, then pool or close the connection.
// The state machine lives in upstream_exchange.cpp; this header keeps Beast
// out of upstream_client.cpp.

#include <memory>

#include "net/upstream_client.hpp"

namespace sb::net {

class upstream_pool;

/// Starts a call on `pool`'s io_context and returns its handle at once.
/// The call keeps `pool` alive until its last handler has run.
std::shared_ptr<upstream_call> start_upstream_exchange(std::shared_ptr<upstream_pool> pool,
                                                       upstream_request request,
                                                       upstream_handlers handlers);

}  // namespace sb::net
