// apigw/dispatch/error.hpp: the backend framework's error codes and their mapping onto the shared
// conditions. Most outcomes of a request are HTTP responses, not errors; these are the failures a
// caller of the framework's pieces (token service, authenticator, worker pool) can act on.
#pragma once

#include "apigw/core/error.hpp"

namespace apigw::dispatch {

// error: failures raised by dispatch.
enum class error {
  overloaded = 1,     // the worker pool's queue is full (throttled)
  rate_limited,       // too many attempts in the window (throttled)
  invalid_token,      // a connect token that is malformed, unknown, used, expired or another session's (forbidden)
  not_authenticated,  // no user behind the request (forbidden)
  bad_credentials,    // wrong username or password (forbidden)
  permission_denied,  // the user lacks a required permission (forbidden)
  invalid_channel,    // a channel name outside ^[A-Za-z0-9_-]{1,128}$ (invalid_argument)
  crypto_failure,     // Argon2id (libsodium) or HMAC (OpenSSL) failed
  shutting_down,      // the backend is stopping (unavailable)
};

}  // namespace apigw::dispatch

namespace boost::system {
template <>
struct is_error_code_enum<apigw::dispatch::error> : std::true_type {};
}  // namespace boost::system

namespace apigw::dispatch {

// error_category: the category of dispatch::error ("apigw.dispatch").
const boost::system::error_category& error_category() noexcept;

// make_error_code: lets dispatch::error convert to apigw::error_code.
error_code make_error_code(error e) noexcept;

}  // namespace apigw::dispatch
