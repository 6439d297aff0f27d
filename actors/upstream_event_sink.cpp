#include "actors/upstream_event_sink.hpp"

#include <caf/send.hpp>

namespace sb::actors {
namespace {

/// What the handlers of one call share. They run on the client's I/O threads
/// one after another (never at once), so no lock is needed.
struct pending {
  caf::actor to;
  std::uint64_t call = 0;
  upstream_delivery how = upstream_delivery::pieces;
  bool head_held = false;
  upstream_event held;  // the head (and, whole, the body so far)

  void send(upstream_event e) {
    e.call = call;
    caf::anon_send(to, std::move(e));
  }
  /// The held head goes out with `data`, as kind::head.
  void release_head(std::string data) {
    head_held = false;
    held.what = upstream_event::kind::head;
    held.data = std::move(data);
    send(std::move(held));
  }
};

}  // namespace

net::upstream_handlers upstream_event_sink(caf::actor to, std::uint64_t call, upstream_delivery how) {
  auto p = std::make_shared<pending>();
  p->to = std::move(to);
  p->call = call;
  p->how = how;
  net::upstream_handlers h;
  h.on_head = [p](net::upstream_head head) {
    p->held.head = std::move(head);
    p->head_held = true;
  };
  h.on_data = [p](std::string data) {
    if (p->how == upstream_delivery::whole) {
      // Most answers come in one piece: take it rather than copy it.
      if (p->held.data.empty())
        p->held.data = std::move(data);
      else
        p->held.data += data;
      return;
    }
    if (p->head_held) return p->release_head(std::move(data));
    upstream_event e;
    e.what = upstream_event::kind::data;
    e.data = std::move(data);
    p->send(std::move(e));
  };
  h.on_end = [p] {
    if (p->how == upstream_delivery::whole) {
      p->head_held = false;
      p->held.what = upstream_event::kind::whole;
      return p->send(std::move(p->held));
    }
    if (p->head_held) p->release_head({});
    upstream_event e;
    e.what = upstream_event::kind::end;
    p->send(std::move(e));
  };
  h.on_error = [p](net::upstream_error err, std::string detail) {
    // A head already read still counts (its status, its rate-limit headers);
    // a whole body's part is dropped: the call failed.
    if (p->head_held) p->release_head({});
    upstream_event e;
    e.what = upstream_event::kind::error;
    e.error = err;
    e.detail = std::move(detail);
    p->send(std::move(e));
  };
  return h;
}

}  // namespace sb::actors
