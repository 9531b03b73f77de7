// apigw/sigv4/signer.hpp: AWS Signature Version 4 signing and verification (pure functions: the
// time is passed in). Used by the Management API client (signing) and the local gateway
// (verifying `Authorization` on @connections and control-plane calls).
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

}  // namespace apigw::sigv4
