// apigw/dispatch/http.hpp: the integration request API Gateway sends to the backend and the
// response the backend returns, as plain values (no Beast in public headers). The embedded server
// converts to and from these; tests build them directly.
#pragma once

#include "apigw/core/text.hpp"

#include "apigw/core/json.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::dispatch {

// header: one header line. Names keep their case; lookups ignore it.
struct header {
  std::string name;
  std::string value;
};

// request: one HTTP request as received. `path` is percent-decoded-free (as on the request line,
// without the query); `query` is the raw query string after '?' (empty when none).
struct request {
  std::string method = "POST";
  std::string path;
  std::string query;
  std::vector<header> headers;
  std::string body;
  std::string remote_address;  // the TCP peer, "127.0.0.1:53412"; empty when unknown

  // header_value: the first header called `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> header_value(std::string_view name) const noexcept;
  // query_value: the percent-decoded value of the first query parameter `name` ('+' is a space),
  // or nullopt when absent.
  std::optional<std::string> query_value(std::string_view name) const;
  // cookie: the value of cookie `name` in the Cookie header(s), or nullopt.
  std::optional<std::string> cookie(std::string_view name) const;
};

// response: what the backend answers. `content_type` is sent as Content-Type; `headers` are extra.
struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body = "{}";
  std::vector<header> headers;

  // ok: 200 with body "{}" (what the reference system answers for success).
  static response ok();
  // json: `status` with the serialized value.
  static response json(unsigned status, const apigw::json::value& body);
  // text: `status` with a plain-text body; the reference system's error bodies are plain text.
  static response text(unsigned status, std::string body);
};

// iequals: core/text.hpp.
using apigw::iequals;

// percent_decode: decodes %XX escapes (and '+' as a space when `plus_is_space`); a malformed
// escape is kept literally (core's percent_decode_lenient, on Boost.URL).
std::string percent_decode(std::string_view s, bool plus_is_space = true);

}  // namespace apigw::dispatch
