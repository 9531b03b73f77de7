// apigw/core/text.hpp: small ASCII text helpers that several parsers share (HTTP header names,
// percent-encoded paths and queries, SigV4 canonicalisation).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace apigw {

// hex_digit_value: 0..15 for [0-9a-fA-F], -1 for anything else.
constexpr int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// iequals: ASCII case-insensitive comparison, as HTTP header names need.
bool iequals(std::string_view a, std::string_view b) noexcept;

// percent_decode: decodes %XX escapes once ('+' stays '+'); nullopt on a truncated or non-hex
// escape. The one percent decoder of the project (on Boost.URL).
std::optional<std::string> percent_decode(std::string_view s);

// percent_decode_lenient: like percent_decode, but a '%' not followed by two hex digits is kept as
// it is instead of failing the whole string (SigV4 canonicalisation decodes what a client sent,
// whatever it sent).
std::string percent_decode_lenient(std::string_view s);

}  // namespace apigw
