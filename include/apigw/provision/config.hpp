// apigw/provision/config.hpp: the desired state of a WebSocket API and of its custom domain, as
// api.json holds it (read and checked before any control-plane call is made). Key names follow
// the backend's options (shared_secret_header, shared_secret) so one value configures both ends.
#pragma once

#include "apigw/core/error.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::provision {

// route_config: an additional route: its key and the URL API Gateway calls for it, or, with
// "integration": "mock", a MOCK integration API Gateway answers itself (no backend call): with a
// "response" template the client gets it back (a two-way route), without one nothing.
struct route_config {
  std::string route_key;
  std::string url;  // empty for a MOCK route
  std::string name;
  bool mock = false;
  std::optional<std::string> response;  // MOCK routes only
};

// domain_config: the custom domain of the API (the "domain" object of api.json).
struct domain_config {
  std::string name;             // "ws.example.com"
  std::string certificate_arn;  // an ACM certificate in the API's region
  std::string hosted_zone_id;   // optional
  std::string base_path;        // the API mapping key; "" maps the domain's root
  // WebSocket APIs take only REGIONAL custom domains with TLS 1.2: "EDGE" and "TLS_1_0" are refused
  // when the file is read. "" leaves the value as it is (REGIONAL / TLS_1_2 when created).
  std::string endpoint_type;    // "REGIONAL"
  std::string security_policy;  // "TLS_1_2"
};

// access_log_config: the stage's access log (AccessLogSettings): a CloudWatch Logs log group and
// a one-line format of $context variables that includes $context.requestId.
struct access_log_config {
  std::string destination_arn;
  std::string format;
};

// api_config: a checked api.json.
struct api_config {
  std::string name;
  std::string description;
  std::string route_selection_expression = "$request.body.action";
  std::string target_base;  // always ends in '/'
  std::string stage = "production";
  std::string stage_description;
  std::map<std::string, std::string> stage_variables;
  std::vector<route_config> routes;  // additional routes, in file order
  std::string shared_secret_header = "X-Apigw-Secret";
  std::string shared_secret;  // empty: no secret header is injected
  std::int64_t timeout_ms = 29000;
  std::map<std::string, std::string> tags;
  // The stage's default route settings ("stage_settings.default_route_settings"; the throttling
  // limits also as the older "throttling" object). Logging level, data trace and detailed metrics
  // are AWS's defaults when not given and converge like the rest; throttling limits not given are
  // left as the stage has them.
  std::optional<std::int64_t> throttling_burst_limit;
  std::optional<double> throttling_rate_limit;
  std::string logging_level = "OFF";  // INFO, ERROR or OFF
  bool data_trace = false;
  bool detailed_metrics = false;
  // The stage's access log; absent: the stage has none (apply removes one it has).
  std::optional<access_log_config> access_log;
  // Stages of the API that apply keeps although they are not `stage` (any other is deleted).
  std::vector<std::string> keep_stages;
  std::string default_channel;
  std::optional<domain_config> domain;
};

// parse_api_config: reads api.json text. Fails with invalid_config naming the field and what is
// wrong: an unknown key, a missing name or target_base, a URL that is not absolute http(s), a route
// without a URL or with a reserved or repeated key, a stage name AWS rejects, and so on.
result<api_config> parse_api_config(std::string_view text);

// load_api_config: reads and checks the file at `path` (io_error when it cannot be read; the
// message of any failure starts with the path).
result<api_config> load_api_config(const std::string& path);

// desired_route: a route key, its name in the record, and the integration it should have; for a
// MOCK route also its integration response and whether it is two-way.
struct desired_route {
  std::string key;
  std::string name;
  boost::json::object integration;  // the CreateIntegration body
  // MOCK routes: the CreateIntegrationResponse body ($default, with the response template as its
  // $default responseTemplates when the file gives one), and two_way when it does (the route then
  // has routeResponseSelectionExpression $default and a $default route response).
  std::optional<boost::json::object> integration_response;
  bool two_way = false;

  bool is_mock() const noexcept { return integration_response.has_value(); }
};

// k_mock_request_template: the request template of every MOCK integration apply makes: status 200,
// which the $default integration response answers.
inline constexpr std::string_view k_mock_request_template = R"({"statusCode": 200})";

// desired_routes: $connect, $disconnect and $default (calling {target_base}connect, ...) then the
// file's routes, each with its HTTP_PROXY POST integration (connectionId header, and the shared
// secret header when one is configured), or its MOCK integration (request template
// k_mock_request_template under "$default", templateSelectionExpression "\$default"). Never fails.
std::vector<desired_route> desired_routes(const api_config& c);

}  // namespace apigw::provision
