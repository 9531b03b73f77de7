// apigw/dispatch/request_services.hpp: what a request_context (and the built-in channel handlers)
// use of the backend serving the request: the channels slice of the store, where sends go, and the
// log. The backend implements it; views depend on this small interface rather than on backend.hpp,
// so view.hpp and backend.hpp do not need each other.
#pragma once

#include "apigw/dispatch/delivery.hpp"
#include "apigw/store/channel_repository.hpp"

#include <string_view>

namespace apigw::dispatch {

// request_services: see the file comment. Implementations are thread-safe.
class request_services {
 public:
  virtual ~request_services() = default;
  // channel_store: the store's channels slice (join, leave, list a connection's channels).
  virtual store::channel_repository& channel_store() noexcept = 0;
  // out: where sends go (ctx.reply(), ctx.sessions()...).
  virtual delivery& out() noexcept = 0;
  // sessions: every session, to narrow and send to.
  virtual session_set sessions() = 0;
  // log: writes one line to the backend's log.
  virtual void log(std::string_view line) const = 0;
};

}  // namespace apigw::dispatch
