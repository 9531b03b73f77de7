// JSON helpers and the message size rule.
#include "apigw/core/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <cmath>

namespace apigw {
namespace {

// Non-finite numbers (1e999 parses to infinity) have no JSON form: Boost.JSON would write them as
// text no parser accepts, so they are refused on the way in and on the way out.
bool has_non_finite_number(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return !std::isfinite(v.get_double());
    case json::kind::array:
      for (const auto& e : v.get_array()) {
        if (has_non_finite_number(e)) return true;
      }
      return false;
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (has_non_finite_number(kv.value())) return true;
      }
      return false;
    default:
      return false;
  }
}

}  // namespace

result<json::value> parse_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return failure{core::error::invalid_json, fmt::format("invalid JSON: {}", ec.message())};
  if (has_non_finite_number(v)) return failure{core::error::invalid_json, "invalid JSON: a number is out of range"};
  return v;
}

result<json::object> parse_json_object(std::string_view text) {
  auto v = parse_json(text);
  if (!v) return v.error();
  if (!v->is_object()) return failure{core::error::invalid_json, "invalid JSON: expected an object"};
  return std::move(v->as_object());
}

result<void> check_message_size(std::size_t bytes, std::size_t limit) {
  if (bytes > limit) {
    return failure{core::error::payload_too_large,
                   fmt::format("message is {} bytes; the limit is {} bytes", bytes, limit)};
  }
  return ok();
}

result<std::string> serialize_message(const json::value& message, std::size_t limit) {
  if (has_non_finite_number(message)) {
    return failure{core::error::invalid_argument, "message has a number that is not finite (no JSON form)"};
  }
  std::string text = json::serialize(message);
  if (auto r = check_message_size(text.size(), limit); !r) return r.error();
  return text;
}

std::optional<std::string_view> get_string(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

std::optional<std::int64_t> get_int(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

std::optional<bool> get_bool(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->get_bool();
}

bool is_valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra = 0;
    unsigned cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      cp = c & 0x1FU;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      cp = c & 0x0FU;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      cp = c & 0x07U;
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      const unsigned cc = p[i];
      if ((cc & 0xC0U) != 0x80U) return false;
      cp = (cp << 6) | (cc & 0x3FU);
    }
    if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    p += extra + 1;
  }
  return true;
}

}  // namespace apigw
