// apigw/net/url.hpp: absolute http(s) URLs split into what a connection needs (scheme, host,
// port) and what a request line needs (the path, exactly as written).
//
// Parsing uses Boost.URL. Only `http` and `https` are accepted; user info and fragments are
// refused, because neither has a meaning for the endpoints this project talks to and both are
// common ways to smuggle a different host past a reader.
#pragma once

#include "apigw/core/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace apigw::net {

// scheme: the two transports the client pool speaks.
enum class scheme { http, https };

// origin: where a connection goes: the pool keeps one set of connections per origin.
struct origin {
  net::scheme scheme = net::scheme::http;
  std::string host;        // a DNS name or an IP literal, without brackets ("::1")
  std::uint16_t port = 0;  // always set (80/443 when the URL had none)

  // host_header: the Host header value: "host" for the scheme's default port, "host:port"
  // otherwise; IPv6 literals in brackets.
  std::string host_header() const;
  // key: "https://host:port", unique per origin; used as the pool's map key and in messages.
  std::string key() const;

  friend bool operator==(const origin&, const origin&) = default;
};

// url: a parsed absolute URL.
struct url {
  net::origin origin;
  std::string path;   // percent-encoded as written; "" when the URL had no path
  std::string query;  // without '?'; "" when none
};

// parse_url: splits `text` ("https://abc.execute-api.eu-west-1.amazonaws.com/dev"). Fails with
// net::error::invalid_url (condition invalid_argument) and a message naming the problem: not a
// URL, a scheme other than http/https, no host, a port out of range, user info or a fragment.
result<url> parse_url(std::string_view text);

// is_ip_literal: true when `host` is an IPv4 or IPv6 address (no SNI is sent to those).
bool is_ip_literal(std::string_view host) noexcept;

}  // namespace apigw::net
