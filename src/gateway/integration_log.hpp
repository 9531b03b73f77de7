// Private to the gateway: the log line of one integration request, with the fields that tie it to
// the backend's line for the same request (docs/design/logging.md): the trace id the request
// carried in X-Amzn-Trace-Id, the request id, the connection id, the route, the status (0 when no
// response came) and the duration.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/core/log.hpp"
#include "apigw/net/http_message.hpp"
#include "gateway/integration.hpp"

#include <chrono>

namespace apigw::gateway::detail {

// log_integration: info when the integration answered (whatever its status), warn with the error
// when it did not.
inline void log_integration(const logging::logger& log, const integration_call& call,
                            const result<net::http_response>& answer, std::chrono::steady_clock::duration took) {
  if (answer) {
    log.info("integration", "trace_id", call.trace_id, "request_id", call.request_id, "connection_id",
             call.connection_id, "route", call.route_key, "status", answer->status, "duration_ms",
             logging::millis(took));
  } else {
    log.warn("integration", "trace_id", call.trace_id, "request_id", call.request_id, "connection_id",
             call.connection_id, "route", call.route_key, "status", 0U, "duration_ms", logging::millis(took), "error",
             answer.error().message);
  }
}

}  // namespace apigw::gateway::detail
