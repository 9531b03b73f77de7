// apigw/sigv4/signer.hpp: AWS Signature Version 4 signing and verification (pure functions: the
// time is passed in). Used by the Management API client (signing) and the local gateway
// (verifying `Authorization` on @connections and control-plane calls; see verifier.hpp).
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace apigw::sigv4 {

// credentials: an access key pair and, for temporary credentials, a session token.
struct credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

struct header {
  std::string name;
  std::string value;
};

// request: what is signed. `path` and `query` are exactly as sent on the wire (already
// percent-encoded, e.g. "/dev/@connections/R1kmxc2VNjMCFIA%3D"); `headers` must include Host.
struct request {
  std::string method;
  std::string path;
  std::string query;  // without the leading '?'
  std::vector<header> headers;
  std::string_view body;
};

// signing_params: the scope of a signature. The SDKs double-encode the path for every service but
// S3 (execute-api included), and normalise it ("/a/./b/../c" -> "/a/c").
struct signing_params {
  std::string region;
  std::string service = "execute-api";
  clock::time_point time;
  bool double_encode_path = true;
  bool normalize_path = true;
};

// sign: the headers to add to `req` so AWS accepts it: X-Amz-Date, X-Amz-Security-Token (when the
// credentials have a session token) and Authorization. Fails with invalid_argument on a request
// without a Host header or credentials without a key.
result<std::vector<header>> sign(const request& req, const credentials& creds, const signing_params& params);

// The pieces sign() is made of, public so tests and tools can show each step (they match the files
// of the AWS SigV4 test suite: .creq, .sts).

// k_algorithm: the signing algorithm named in the string to sign and the Authorization header.
inline constexpr std::string_view k_algorithm = "AWS4-HMAC-SHA256";

// canonical_uri: the CanonicalURI of a wire path: dot segments and repeated slashes removed when
// `normalize` ("" -> "/"), then every byte but A-Z a-z 0-9 - . _ ~ / percent-encoded. With
// `double_encode` the wire's own escapes are encoded again ("%3D" -> "%253D", as the SDKs do for
// execute-api); without it they are kept as they are. Never fails.
std::string canonical_uri(std::string_view path, bool double_encode, bool normalize);

// canonical_query_string: the CanonicalQueryString of a wire query (no '?'): each name and value
// percent-decoded then re-encoded with AWS's rules (only unreserved characters left bare; '+' is a
// plus sign, "%2B", not a space), pairs sorted by encoded name then value, empty components dropped.
// Never fails.
std::string canonical_query_string(std::string_view query);

// canonical_request: the canonical request of `req` exactly as it stands (its own X-Amz-Date and
// X-Amz-Security-Token, if any, included), signing the headers sign() would sign: all but
// authorization, user-agent, expect, x-amzn-trace-id and hop-by-hop headers. Fails with
// invalid_request like sign(), or crypto_failure when OpenSSL cannot hash the body.
result<std::string> canonical_request(const request& req, const signing_params& params);

// string_to_sign: "AWS4-HMAC-SHA256\n<X-Amz-Date>\n<date>/<region>/<service>/aws4_request\n<hex
// SHA-256 of the canonical request>". Fails only with crypto_failure.
result<std::string> string_to_sign(std::string_view canonical_request, clock::time_point time, std::string_view region,
                                   std::string_view service);

// signing_key: the 32-byte (raw, not hex) key derived from the secret and the scope, `date` being
// "YYYYMMDD". Fails only with crypto_failure.
result<std::string> signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                                std::string_view service);

}  // namespace apigw::sigv4
