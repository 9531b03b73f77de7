// CORS for the embedded server: an exact allow-list of origins, never a reflected Origin.
#include "server/cors.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

namespace apigw::server::detail {
namespace {

constexpr std::string_view k_methods = "GET, HEAD, POST, PUT, PATCH, DELETE";

result<void> bad_origin(std::string_view origin, std::string_view why) {
  return failure{core::error::invalid_argument,
                 fmt::format("cors.allowed_origins: \"{}\" {}; write an origin as the browser sends it, e.g. "
                             "https://app.example.com or http://127.0.0.1:5173",
                             origin, why)};
}

}  // namespace

result<void> check_cors(const cors_options& cors) {
  for (const auto& o : cors.allowed_origins) {
    if (o == "*") return bad_origin(o, "would let every site read answers meant for signed-in users: list origins");
    if (o == "null") return bad_origin(o, "is what sandboxed frames and file: pages send, which anyone can forge");
    std::string_view rest = o;
    std::string_view scheme;
    if (rest.starts_with("https://")) {
      scheme = "https";
    } else if (rest.starts_with("http://")) {
      scheme = "http";
    } else {
      return bad_origin(o, "does not start with http:// or https:// (in lower case)");
    }
    rest.remove_prefix(scheme.size() + 3);
    if (rest.empty()) return bad_origin(o, "has no host");
    if (rest.find_first_of("/?#") != std::string_view::npos) return bad_origin(o, "has a path (or a trailing '/')");
    if (std::ranges::any_of(rest, [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; })) {
      return bad_origin(o, "has upper-case letters, which browsers never send");
    }
    if (rest.find('@') != std::string_view::npos) return bad_origin(o, "has user information");
    std::string_view host = rest;
    std::optional<std::string_view> port;
    if (rest.starts_with('[')) {
      const auto close = rest.find(']');
      if (close == std::string_view::npos) return bad_origin(o, "has an IPv6 address without its ']'");
      host = rest.substr(0, close + 1);
      if (close + 1 < rest.size()) {
        if (rest[close + 1] != ':') return bad_origin(o, "has something after the IPv6 address");
        port = rest.substr(close + 2);
      }
    } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
    }
    if (host.empty() || host == "[]") return bad_origin(o, "has no host");
    if (port) {
      if (port->empty() || port->size() > 5 ||
          !std::ranges::all_of(*port, [](char c) { return c >= '0' && c <= '9'; })) {
        return bad_origin(o, "has a port that is not a number");
      }
      if ((scheme == "https" && *port == "443") || (scheme == "http" && *port == "80")) {
        return bad_origin(o, "names the scheme's default port, which browsers leave out");
      }
    }
  }
  return ok();
}

std::optional<std::string_view> listed_origin(const cors_options& cors, std::optional<std::string_view> origin) {
  if (!origin) return std::nullopt;
  const auto it = std::ranges::find(cors.allowed_origins, *origin);
  if (it == cors.allowed_origins.end()) return std::nullopt;
  return std::string_view{*it};
}

bool is_preflight(const dispatch::request& req) {
  return req.method == "OPTIONS" && req.header_value("Origin") && req.header_value("Access-Control-Request-Method");
}

dispatch::response preflight(const cors_options& cors, const dispatch::request& req) {
  const auto origin = listed_origin(cors, req.header_value("Origin"));
  if (!origin) {
    auto r = dispatch::response::text(403, "Origin not allowed");
    r.headers.push_back({"Vary", "Origin"});
    return r;
  }
  dispatch::response r;
  r.status = 204;
  r.body.clear();  // a 204 has no body (the HTTP layer refuses to send one)
  r.content_type = "text/plain; charset=utf-8";
  r.headers.push_back({"Vary", "Origin"});
  r.headers.push_back({"Access-Control-Allow-Origin", std::string{*origin}});
  if (cors.allow_credentials) r.headers.push_back({"Access-Control-Allow-Credentials", "true"});
  r.headers.push_back({"Access-Control-Allow-Methods", std::string{k_methods}});
  if (!cors.allow_headers.empty()) {
    r.headers.push_back({"Access-Control-Allow-Headers", fmt::format("{}", fmt::join(cors.allow_headers, ", "))});
  }
  r.headers.push_back({"Access-Control-Max-Age", std::to_string(cors.max_age.count())});
  return r;
}

void add_cors_headers(const cors_options& cors, std::optional<std::string_view> origin, dispatch::response& r) {
  r.headers.push_back({"Vary", "Origin"});
  const auto listed = listed_origin(cors, origin);
  if (!listed) return;
  r.headers.push_back({"Access-Control-Allow-Origin", std::string{*listed}});
  if (cors.allow_credentials) r.headers.push_back({"Access-Control-Allow-Credentials", "true"});
}

}  // namespace apigw::server::detail
