// apigw/net/error.hpp: the failures of the net module (URL parsing, HTTP client pool, server).
//
// Every code maps onto a shared `apigw::condition`, so callers test `r.error() ==
// apigw::condition::timeout` without knowing which layer failed: malformed URLs are
// invalid_argument, running out of time is timeout, a closed pool is unavailable, and everything
// that went wrong on the wire (DNS, connect, TLS, reset, malformed response) is network_error.
#pragma once

#include "apigw/core/error.hpp"

namespace apigw::net {

// error: what the net module reports.
enum class error {
  invalid_url = 1,     // the URL could not be parsed or uses an unsupported scheme
  resolve_failed,      // DNS lookup failed
  connect_failed,      // TCP connect refused or unreachable
  tls_failed,          // TLS handshake or certificate verification failed
  write_failed,        // the request could not be written
  read_failed,         // the response could not be read (reset, EOF, ...)
  timeout,             // an operation ran out of time
  bad_response,        // the peer sent something that is not HTTP/1.1, or too large
  pool_closed,         // the client pool was closed
  bind_failed,         // the server could not bind or listen
  tls_config_invalid,  // a certificate or key file is missing, unreadable or does not match
};

}  // namespace apigw::net

namespace boost::system {
template <>
struct is_error_code_enum<apigw::net::error> : std::true_type {};
}  // namespace boost::system

namespace apigw::net {

// error_category: the category of net::error ("apigw.net").
const boost::system::error_category& error_category() noexcept;

// make_error_code: lets `error_code ec = net::error::timeout;` work.
error_code make_error_code(error e) noexcept;

}  // namespace apigw::net
