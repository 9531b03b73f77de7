// apigw/mgmt/error.hpp: the failures of the Management API client and the fan-out sender.
//
// Each code maps onto a shared `apigw::condition` (see core/error.hpp): gone -> connection_gone,
// limit_exceeded -> throttled, and so on, so `r.error() == apigw::condition::connection_gone`
// holds whether the 410 came from AWS, from the local gateway or from a store that already knew.
// `apigw::is_retryable` is true exactly for limit_exceeded, server_error, network_error and
// timeout.
#pragma once

#include "apigw/core/error.hpp"

namespace apigw::mgmt {

// error: what the Management API reported, or what stopped a request from being made.
enum class error {
  gone = 1,               // 410 GoneException: the connection no longer exists
  forbidden,              // 403 ForbiddenException / IAM errors (bad signature, no permission, no stage)
  payload_too_large,      // 413 PayloadTooLargeException, or refused before sending (> 131072 bytes)
  limit_exceeded,         // 429 LimitExceededException: throttled, or the client's buffer is full
  server_error,           // 5xx
  network_error,          // DNS, connect, TLS, reset: the request may or may not have arrived
  timeout,                // no answer in time
  invalid_endpoint,       // the endpoint URL (or its region) cannot be used
  invalid_connection_id,  // the id has characters no gateway issues; nothing was sent
  bad_request,            // any other 4xx (e.g. 400 BadRequestException, 404)
  unexpected_status,      // 1xx or 3xx: the endpoint is not a Management API (a redirect, a proxy)
  bad_response,           // a 2xx whose body is not what the operation returns
  signing_failed,         // the request could not be signed (incomplete credentials)
  not_found,              // control plane: 404 NotFoundException (no such API, route, stage, domain)
  conflict,               // control plane: 409 ConflictException (duplicate route key, stage, domain)
};

}  // namespace apigw::mgmt

namespace boost::system {
template <>
struct is_error_code_enum<apigw::mgmt::error> : std::true_type {};
}  // namespace boost::system

namespace apigw::mgmt {

// error_category: the category of mgmt::error ("apigw.mgmt").
const boost::system::error_category& error_category() noexcept;

// make_error_code: lets `error_code ec = mgmt::error::gone;` work.
error_code make_error_code(error e) noexcept;

}  // namespace apigw::mgmt
