// infra.hpp: what `apigw-ws api` and `apigw-ws domain` share: the api.json configuration (read and
// checked before any call is made), the control-plane connection options (endpoint, region,
// profile) and how they become a signed client, and the endpoint recorded in the store.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/mgmt/control_plane.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::cli {

// infra_route: an additional route: its key and the URL API Gateway calls for it.
struct infra_route {
  std::string route_key;
  std::string url;
  std::string name;
};

// infra_domain: the custom domain of the API (the "domain" object of api.json).
struct infra_domain {
  std::string name;             // "ws.example.com"
  std::string certificate_arn;  // an ACM certificate in the API's region
  std::string hosted_zone_id;   // optional
  std::string base_path;        // the API mapping key; "" maps the domain's root
  std::string endpoint_type;    // "REGIONAL" or "EDGE"; "" leaves it as it is (REGIONAL when created)
  std::string security_policy;  // "TLS_1_0" or "TLS_1_2"; "" leaves it as it is (TLS_1_2 when created)
};

// infra_config: a checked api.json. Key names follow the backend's options (shared_secret_header,
// shared_secret) so one value configures both ends.
struct infra_config {
  std::string name;
  std::string description;
  std::string route_selection_expression = "$request.body.action";
  std::string target_base;  // always ends in '/'
  std::string stage = "production";
  std::string stage_description;
  std::map<std::string, std::string> stage_variables;
  std::vector<infra_route> routes;  // additional routes, in file order
  std::string shared_secret_header = "X-Apigw-Secret";
  std::string shared_secret;  // empty: no secret header is injected
  std::int64_t timeout_ms = 29000;
  std::map<std::string, std::string> tags;
  std::optional<std::int64_t> throttling_burst_limit;
  std::optional<double> throttling_rate_limit;
  std::string default_channel;
  std::optional<infra_domain> domain;
};

// parse_infra_config: reads api.json text. Fails with invalid_config naming the field and what is
// wrong: an unknown key, a missing name or target_base, a URL that is not absolute http(s), a route
// without a URL or with a reserved or repeated key, a stage name AWS rejects, and so on.
result<infra_config> parse_infra_config(std::string_view text);

// load_infra_config: reads and checks the file at `path` (io_error when it cannot be read).
result<infra_config> load_infra_config(const std::string& path);

// control_plane_cli: the connection options every infra command takes.
struct control_plane_cli {
  std::optional<std::string> endpoint;  // the local gateway ("http://127.0.0.1:4510") or any control plane
  std::optional<std::string> region;
  std::optional<std::string> profile;
  int retries = 4;  // tries after a throttled (429) or 5xx answer, 1 s, 2 s, 4 s, ... apart
};

// add_control_plane_options: adds --endpoint, --region, --profile and --retries to `cmd`.
void add_control_plane_options(CLI::App* cmd, control_plane_cli& o);

// control_plane_setup: the resolved client options and where the recorded endpoint points.
struct control_plane_setup {
  std::string endpoint_url;  // the control plane
  mgmt::control_plane_options options;
  std::string region;
  bool local = false;              // --endpoint on a loopback host
  std::string credentials_source;  // where the credentials came from; "none (unsigned)" for local
};

// resolve_control_plane: credentials and region from the sigv4 chain (explicit profile,
// environment, shared files). A loopback --endpoint works unsigned and defaults to us-east-1; any
// other endpoint needs credentials and a region, and their absence fails naming every place looked.
result<control_plane_setup> resolve_control_plane(const control_plane_cli& o);

// member_string: the string member `key` of a control-plane response, or "" when it is absent,
// null (moto sends nulls) or not a string.
std::string member_string(const boost::json::object& o, std::string_view key);

// run_io: runs `a` on `io` until it finishes and returns its result (the commands are one-shot).
template <class T>
T run_io(boost::asio::io_context& io, boost::asio::awaitable<T> a) {
  auto f = boost::asio::co_spawn(io, std::move(a), boost::asio::use_future);
  io.run();
  return f.get();
}

// management_endpoint: the Management API endpoint recorded for the API's stage:
// "https://{apiId}.execute-api.{region}.amazonaws.com/{stage}" on AWS, "{endpoint}/{stage}" with
// --endpoint (the local gateway serves @connections on the same port).
std::string management_endpoint(const control_plane_setup& s, std::string_view api_id, std::string_view stage);

}  // namespace apigw::cli
