// apigw/sigv4/verifier.hpp: checks the SigV4 `Authorization` header of a received request, the way
// AWS does for execute-api (the local gateway's strict mode on @connections and control-plane
// calls). Pure: the time and the key store are passed in.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/sigv4/signer.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::sigv4 {

// key_lookup: the credentials (secret, and session token for temporary keys) of an access key id,
// or nullopt when the key is unknown. verify() calls it at most once.
using key_lookup = std::function<std::optional<credentials>(std::string_view access_key_id)>;

// static_keys: a key_lookup over a fixed list of credentials (the first entry with an id wins).
key_lookup static_keys(std::vector<credentials> keys);

// verify_params: what a valid signature must look like here.
struct verify_params {
  std::string service = "execute-api";                      // the credential scope must name this service
  std::optional<std::string> region;                        // when set, the scope must name this region; otherwise any
  clock::time_point now;                                    // the server's time
  std::chrono::seconds max_skew = std::chrono::minutes{5};  // allowed |request time - now|
  bool double_encode_path = true;  // as the SDKs sign every service but S3 (false for the AWS test suite)
  bool normalize_path = true;
};

// authorization: the parts of an `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
// header.
struct authorization {
  std::string access_key_id;
  std::string date;  // YYYYMMDD of the credential scope
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lower-case, sorted, unique; host included
  std::string signature;                    // 64 lower-case hex digits
};

// parse_authorization: splits an Authorization header value. Any deviation from the form the SDKs
// send (another algorithm, a missing, repeated or unknown parameter, a credential that is not
// key/YYYYMMDD/region/service/aws4_request, unsorted or upper-case SignedHeaders, a signature that is
// not 64 hex digits) fails with malformed_authorization saying what was wrong.
result<authorization> parse_authorization(std::string_view value);

// verified_identity: who signed an accepted request.
struct verified_identity {
  std::string access_key_id;
  std::string region;
  std::string service;
  clock::time_point signed_at;              // from X-Amz-Date (or Date)
  std::vector<std::string> signed_headers;  // as listed in the Authorization header
  bool temporary = false;                   // signed with a session token
};

// verify: checks that `req` (path and query exactly as received) carries a valid signature by a key
// `keys` knows. Fails with
//   missing_authorization    no Authorization header (presigned URLs are not supported),
//   malformed_authorization  see parse_authorization(); also when host or x-amz-date is unsigned,
//   missing_date / invalid_date  no usable X-Amz-Date or Date header,
//   scope_mismatch           the scope names another service, region (when p.region is set) or day,
//   request_time_skewed      the request time is more than p.max_skew away from p.now,
//   unknown_access_key       `keys` does not know the access key id,
//   missing_security_token / invalid_security_token  the key's session token is absent or differs
//                            (compared in constant time; a token on a permanent key is invalid),
//   signature_mismatch       the recomputed signature differs (compared in constant time), or a
//                            signed header is absent; the message holds the canonical request.
// With p.double_encode_path, a path signed with '@' where the wire has "%40" (or the reverse) is
// accepted too: both name the same @connections resource.
result<verified_identity> verify(const request& req, const key_lookup& keys, const verify_params& p);

}  // namespace apigw::sigv4
