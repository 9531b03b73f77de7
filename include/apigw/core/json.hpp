// apigw/core/json.hpp: JSON helpers over Boost.JSON, and the message size rule.
//
// The message size rule (AWS's): a message is the serialized JSON, measured in UTF-8 bytes, at most
// 131072 bytes, checked before anything is sent. Boost.JSON writes non-ASCII text as UTF-8 (not
// \uXXXX escapes), so what is measured is exactly what goes on the wire.
#pragma once

#include "apigw/core/error.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace apigw {

namespace json = boost::json;

inline constexpr std::size_t k_max_message_bytes = 131072;  // 128 KiB, API Gateway's message limit
inline constexpr std::size_t k_max_frame_bytes = 32768;     // 32 KiB, API Gateway's frame limit

// parse_json: parses text; a syntax error becomes core::error::invalid_json with the position.
result<json::value> parse_json(std::string_view text);

// parse_json_object: parses text that must be a JSON object.
result<json::object> parse_json_object(std::string_view text);

// check_message_size: payload_too_large ("message is N bytes; the limit is 131072 bytes") when
// `bytes` exceeds `limit`.
result<void> check_message_size(std::size_t bytes, std::size_t limit = k_max_message_bytes);

// serialize_message: the wire form of a message, size-checked.
result<std::string> serialize_message(const json::value& message, std::size_t limit = k_max_message_bytes);

// get_string / get_int / get_bool: the member `key` of `obj` when present with that type.
std::optional<std::string_view> get_string(const json::object& obj, std::string_view key);
std::optional<std::int64_t> get_int(const json::object& obj, std::string_view key);
std::optional<bool> get_bool(const json::object& obj, std::string_view key);

// is_valid_utf8: true when `s` is well-formed UTF-8 (no overlongs, surrogates or values > U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace apigw
