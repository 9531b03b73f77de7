// apigw/core/ids.hpp: identifiers. Connection ids in AWS's shape (16 characters of [A-Za-z0-9_-]
// ending in '='; e.g. "L0SM9cOFvHcCIhw="), and 64-hex secrets from the kernel's CSPRNG.
#pragma once

#include "apigw/core/error.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace apigw {

inline constexpr std::size_t k_connection_id_length = 16;
// Longest connection id we accept from outside (AWS's are 16; leave room for other gateways).
inline constexpr std::size_t k_max_connection_id_length = 128;

// random_bytes: fills `out` with bytes from getrandom(2), taken in blocks into a per-thread pool
// (each byte handed out once; a fork drops the pools). Thread-safe. Fails only if the kernel has
// no entropy source.
result<void> random_bytes(std::span<std::byte> out);

// new_connection_id: a fresh AWS-shaped connection id (15 random URL-safe base64 characters + '=').
result<std::string> new_connection_id();

// is_valid_connection_id: 1..128 characters of [A-Za-z0-9_=+/-]. Accepts any id AWS or another
// gateway may issue, and rejects anything that could break a URL path, a header or a log line.
bool is_valid_connection_id(std::string_view id) noexcept;

// new_token_hex: 64 lowercase hex characters (256 bits) from the CSPRNG.
result<std::string> new_token_hex();

// is_token_hex: exactly 64 characters of [0-9a-f].
bool is_token_hex(std::string_view s) noexcept;

// to_hex: lowercase hex of bytes.
std::string to_hex(std::span<const std::byte> bytes);
std::string to_hex(std::string_view bytes);

// constant_time_equal: compares without an early exit, so timing says nothing about where two
// secrets differ (the length may leak).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace apigw
