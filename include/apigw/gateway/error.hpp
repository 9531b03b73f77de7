// apigw/gateway/error.hpp: the failures of the gateway module (configuration, route selection,
// @connections requests, integrations).
//
// Every code maps onto a shared `apigw::condition`: a closed or unknown connection is
// connection_gone (410), an unknown stage is forbidden (403), an oversize post is
// payload_too_large (413), a full outbound queue or a rate limit is throttled (429).
#pragma once

#include "apigw/core/error.hpp"

namespace apigw::gateway {

// error: what the gateway module reports.
enum class error {
  invalid_config = 1,    // the gateway configuration is malformed (names the key and why)
  unknown_stage,         // no API serves this stage (403 Forbidden)
  connection_gone,       // no open connection has this id (410 GoneException)
  payload_too_large,     // a PostToConnection body over the message limit (413)
  throttled,             // a rate limit or a full outbound queue (429 LimitExceededException)
  not_connections_path,  // the request path is not /{stage}/@connections/{id}
  integration_timeout,   // the backend did not answer within the integration timeout
  integration_failed,    // the backend could not be reached or answered garbage
};

}  // namespace apigw::gateway

namespace boost::system {
template <>
struct is_error_code_enum<apigw::gateway::error> : std::true_type {};
}  // namespace boost::system

namespace apigw::gateway {

// error_category: the category of gateway::error ("apigw.gateway").
const boost::system::error_category& error_category() noexcept;

// make_error_code: lets `error_code ec = gateway::error::connection_gone;` work.
error_code make_error_code(error e) noexcept;

}  // namespace apigw::gateway
