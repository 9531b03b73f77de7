// src/server/cors.hpp (internal): the CORS rules of the embedded server (server_options::cors):
// checking the allow-list at start(), answering preflights, and the headers added to an answer.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/dispatch/http.hpp"
#include "apigw/server/server.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace apigw::server::detail {

// check_cors: invalid_argument naming the entry when an allowed origin is not one a browser sends
// in its Origin header (scheme "http" or "https", lower case, a host, a port only when it is not
// the scheme's default, nothing after it), or is "*" / "null".
result<void> check_cors(const cors_options& cors);

// listed_origin: `origin` (a request's Origin header) when it is exactly one of the allowed origins.
std::optional<std::string_view> listed_origin(const cors_options& cors, std::optional<std::string_view> origin);

// is_preflight: OPTIONS with Origin and Access-Control-Request-Method.
bool is_preflight(const dispatch::request& req);

// preflight: the answer to a preflight: 204 with the allowed methods and headers for a listed
// origin, 403 for any other (no Access-Control-Allow-Origin, so the browser refuses the request).
dispatch::response preflight(const cors_options& cors, const dispatch::request& req);

// add_cors_headers: Vary: Origin on every answer; for a listed origin also
// Access-Control-Allow-Origin (that origin, never "*") and, when allowed, -Allow-Credentials.
void add_cors_headers(const cors_options& cors, std::optional<std::string_view> origin, dispatch::response& r);

}  // namespace apigw::server::detail
