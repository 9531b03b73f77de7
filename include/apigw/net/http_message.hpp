// apigw/net/http_message.hpp: HTTP/1.1 requests and responses in the project's own types, so
// public headers need no Beast. Header names keep the case they were given; lookups ignore case.
#pragma once

#include "apigw/core/text.hpp"

#include "apigw/net/url.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::net {

// http_header: one header line.
struct http_header {
  std::string name;
  std::string value;
};

using http_headers = std::vector<http_header>;

// find_header: the value of the first header called `name` (case-insensitive), or nullopt.
std::optional<std::string_view> find_header(const http_headers& headers, std::string_view name) noexcept;

// set_header: replaces every header called `name` (case-insensitive) with one `name: value`.
void set_header(http_headers& headers, std::string_view name, std::string_view value);

// iequals: core/text.hpp.
using apigw::iequals;

// http_request: a request the client pool sends. `target` is the request line's target exactly as
// it goes on the wire (path plus optional "?query", already percent-encoded). A Host header is
// added from `origin` when `headers` has none; Content-Length is computed from `body`.
struct http_request {
  std::string method = "GET";
  net::origin origin;
  std::string target = "/";
  http_headers headers;
  std::string body;
};

// http_response: a response as received (client) or to send (server).
struct http_response {
  unsigned status = 200;
  http_headers headers;
  std::string body;
};

// incoming_request: a request as the server helper received it.
struct incoming_request {
  std::string method;
  std::string target;  // as on the request line (still percent-encoded)
  http_headers headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1:53412"
};

}  // namespace apigw::net
