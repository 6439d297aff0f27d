#pragma once
// Endpoints that need actors' answers spawn a one-shot actor that asks, then
// responds and quits; the I/O thread never waits.

#include <caf/all.hpp>

namespace sb {

/// The behaviour of such a one-shot actor: CAF 0.17 may end an actor whose
/// init returned no behaviour before its requests are answered, which drops
/// the client's answer. With one, it lives until it quits itself.
inline caf::behavior keep_alive_until_answered() {
  return {[](caf::ok_atom) {}};
}

}  // namespace sb
