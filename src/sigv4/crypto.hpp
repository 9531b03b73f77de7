// sigv4/crypto.hpp (private): SHA-256 and HMAC-SHA256 over OpenSSL 3, and the SigV4 key schedule.
#pragma once

#include "apigw/core/error.hpp"

#include <string>
#include <string_view>

namespace apigw::sigv4::detail {

// sha256_hex: lowercase hex SHA-256 of `data`; crypto_failure when OpenSSL fails.
result<std::string> sha256_hex(std::string_view data);

// hmac_sha256: the raw 32-byte HMAC-SHA256 of `data` under `key`; crypto_failure when OpenSSL fails.
result<std::string> hmac_sha256(std::string_view key, std::string_view data);

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
