// apigw/sigv4/error.hpp: the failures of the sigv4 module (signing, verification, credentials).
//
// Every verification failure maps to `condition::forbidden` (the gateway answers 403 whatever the
// reason); requests that cannot be signed at all map to `invalid_argument`; the credentials chain
// maps to `not_found` (nothing anywhere), `invalid_argument` (a malformed or partial source or
// profile) and `unavailable` (a file that exists but cannot be read, a source that failed).
#pragma once

#include "apigw/core/error.hpp"

namespace apigw::sigv4 {

// error: what went wrong, specific enough for a log line; the `failure` message says which header,
// variable or file.
enum class error {
  invalid_request = 1,          // cannot be signed or verified: no Host, empty method, bad header name
  invalid_credentials,          // an empty access key id or secret key given to the signer
  missing_authorization,        // no Authorization header
  malformed_authorization,      // an Authorization header that is not AWS4-HMAC-SHA256 Credential=...
  missing_date,                 // neither X-Amz-Date nor Date
  invalid_date,                 // X-Amz-Date or Date that is not a valid time
  scope_mismatch,               // credential scope names another service, region or day
  request_time_skewed,          // request time outside the allowed window around now
  unknown_access_key,           // no secret known for the access key id
  missing_security_token,       // the key has a session token; the request carries none
  invalid_security_token,       // the request's session token is not the key's
  signature_mismatch,           // the recomputed signature differs
  crypto_failure,               // OpenSSL could not compute SHA-256 / HMAC
  credentials_not_found,        // no credentials in any source of the chain
  incomplete_credentials,       // an access key without a secret key, or the reverse
  credentials_file_unreadable,  // a credentials or config file exists but cannot be read
  credentials_file_malformed,   // a credentials or config file that is not valid INI
  region_not_found,             // no region in any source
  credentials_fetch_failed,     // a source was configured but failed: STS, IMDS, a container, a process
  invalid_profile,              // a profile whose settings contradict or are incomplete (role without source)
};

}  // namespace apigw::sigv4

namespace boost::system {
template <>
struct is_error_code_enum<apigw::sigv4::error> : std::true_type {};
}  // namespace boost::system

namespace apigw::sigv4 {

// error_category: the category of sigv4::error ("apigw.sigv4"), mapping each code onto a shared
// apigw::condition.
const boost::system::error_category& error_category() noexcept;

// make_error_code: lets `error_code ec = sigv4::error::signature_mismatch;` compile.
error_code make_error_code(error e) noexcept;

}  // namespace apigw::sigv4
