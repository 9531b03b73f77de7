// apigw/mgmt/endpoint.hpp: Management API endpoints and the request paths botocore produces.
//
// An endpoint is the URL an SDK is given as `endpoint_url`: the API's execute-api URL with the
// stage (`https://abc123.execute-api.eu-west-1.amazonaws.com/dev`), a custom domain with its base
// path (`https://ws.example.com/base`), or any `http(s)://host:port/stage` (the local gateway).
// Operations append `/@connections/{id}` to the endpoint's path, with the id percent-encoded the
// way botocore does it (everything but A-Z a-z 0-9 and `-._~`), so `=` is sent as `%3D`.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/net/url.hpp"

#include <string>
#include <string_view>

namespace apigw::mgmt {

// endpoint: a parsed Management API endpoint.
struct endpoint {
  net::origin origin;
  std::string base_path;  // "/dev", "/base/v1" or "": no trailing slash, percent-encoded as given
  std::string region;     // from an execute-api host name; "" for other hosts
  std::string url;        // the endpoint as given, without a trailing slash
};

// parse_endpoint: parses an endpoint URL. Fails with mgmt::error::invalid_endpoint (condition
// invalid_argument) when it is not an absolute http(s) URL, or has a query or fragment.
result<endpoint> parse_endpoint(std::string_view url);

// region_from_host: "eu-west-1" for "abc123.execute-api.eu-west-1.amazonaws.com" (also
// ".amazonaws.com.cn"); "" for any other host.
std::string region_from_host(std::string_view host);

// encode_connection_id: percent-encodes every byte outside A-Z a-z 0-9 - . _ ~ (upper-case hex),
// as botocore encodes the ConnectionId label: "R1kmxc2VNjMCFIA=" -> "R1kmxc2VNjMCFIA%3D".
std::string encode_connection_id(std::string_view id);

// connection_path: the request target for an operation on `id`:
// "{base_path}/@connections/{encoded id}", e.g. "/dev/@connections/R1kmxc2VNjMCFIA%3D".
std::string connection_path(const endpoint& ep, std::string_view id);

}  // namespace apigw::mgmt
