// apigw/sigv4/hash.hpp: SHA-256 and HMAC-SHA256, the project's one implementation of both (OpenSSL
// 3). SigV4 signs and verifies with them; dispatch hashes connect tokens and session keys and signs
// login cookies with them. Randomness comes from core (random_bytes); libsodium is used only for
// Argon2id password hashing.
#pragma once

#include "apigw/core/error.hpp"

#include <string>
#include <string_view>

namespace apigw::sigv4 {

// sha256_hex: lowercase hex SHA-256 of `data`; crypto_failure when OpenSSL fails.
result<std::string> sha256_hex(std::string_view data);

// hmac_sha256: the raw 32-byte HMAC-SHA256 of `data` under `key`; crypto_failure when OpenSSL fails.
result<std::string> hmac_sha256(std::string_view key, std::string_view data);

// hmac_sha256_hex: the same as 64 lowercase hex characters.
result<std::string> hmac_sha256_hex(std::string_view key, std::string_view data);

}  // namespace apigw::sigv4
