#pragma once
// From one received HTTP request to the plan the server executes: control
// endpoints, format by path, the provider's own header and body checks, the
// scripted (or default) reply. No sockets here.

#include "tests/fakes/provider_state.hpp"
#include "tests/fakes/recorded_request.hpp"
#include "tests/fakes/reply_plan.hpp"

namespace sb::fakes {

reply_plan answer(provider_state& state, recorded_request request);

// /__fake/script, /__fake/requests, /__fake/reset, /__fake/stats (control_api.cpp).
reply_plan answer_control(provider_state& state, const recorded_request& request);

}  // namespace sb::fakes
