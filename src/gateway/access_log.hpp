// Private to the gateway: the stage access log. A stage whose accessLogSettings has a format gets
// one line per $connect, message and $disconnect, with the $context variables of the format
// substituted, as API Gateway writes to the stage's CloudWatch Logs group. The local gateway
// writes the lines to gateway_options::access_log (standard error when that is empty).
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/gateway/config.hpp"
#include "apigw/gateway/gateway.hpp"
#include "gateway/integration_client.hpp"

#include <string>
#include <string_view>

namespace apigw::gateway::detail {

// access_log_event: what one line can say.
struct access_log_event {
  std::string_view event_type;  // CONNECT, MESSAGE or DISCONNECT
  std::string_view request_id;
  std::string_view connection_id;
  std::string_view route_key;
  std::string_view api_id;
  std::string_view stage;
  std::string_view domain_name;
  std::string_view source_ip;
  std::string_view user_agent;
  int status = 0;              // what the gateway answered (see access_log_line)
  int integration_status = 0;  // the integration's HTTP status; 0 when none came back
  std::string_view error;      // "" when none
  clock::time_point request_time{};
  clock::time_point connected_at{};
};

// access_log_line: `format` with each $context.NAME (or ${context.NAME}) replaced: requestId and
// extendedRequestId, connectionId, routeKey, eventType, status, integrationStatus and
// integration.status, apiId, stage, domainName, identity.sourceIp, identity.userAgent,
// requestTime (CLF: 06/Dec/2026:07:01:23 +0000), requestTimeEpoch (ms), connectedAt (ms),
// messageDirection (IN) and error.message. A variable without a value, or one the local gateway
// does not know, is "-", as in API Gateway's logs. Anything else in the format is copied.
std::string access_log_line(std::string_view format, const access_log_event& e);

// access_event: an event (`event_type`) of connection `who` on `api`'s `stage` at `request_time`,
// with the connection's identity filled in; the caller adds the request id, route and statuses.
// The views point into the arguments.
access_log_event access_event(const connection_identity& who, const api_config& api, const stage_config& stage,
                              std::string_view event_type, clock::time_point request_time);

// write_access_log: the line for `e` in `format` to `opts.access_log`, or to standard error (one
// write per line). Nothing when `format` is empty.
void write_access_log(const gateway_options& opts, std::string_view format, const access_log_event& e);

}  // namespace apigw::gateway::detail
