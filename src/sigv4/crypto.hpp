// sigv4/crypto.hpp (private): the SigV4 key schedule, over the public SHA-256 and HMAC-SHA256 of
// apigw/sigv4/hash.hpp (OpenSSL 3).
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/sigv4/hash.hpp"

#include <string>
#include <string_view>

namespace apigw::sigv4::detail {

using sigv4::hmac_sha256;
using sigv4::sha256_hex;

// derive_signing_key: HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request" (raw
// 32 bytes). Intermediate keys are wiped before returning.
result<std::string> derive_signing_key(std::string_view secret, std::string_view date, std::string_view region,
                                       std::string_view service);

// compute_signature: hex HMAC-SHA256 of `string_to_sign` under the key derived from the scope.
result<std::string> compute_signature(std::string_view secret, std::string_view date, std::string_view region,
                                      std::string_view service, std::string_view string_to_sign);

// wipe: overwrites a string holding key material (OPENSSL_cleanse cannot be optimised away).
void wipe(std::string& s) noexcept;

}  // namespace apigw::sigv4::detail
