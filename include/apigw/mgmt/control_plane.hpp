// apigw/mgmt/control_plane.hpp: a client of the `apigatewayv2` control plane (the API Gateway v2
// management API that creates WebSocket APIs, their integrations, routes, stages, deployments,
// custom domain names and API mappings).
//
// Wire form (semantics §6, botocore model apigatewayv2/2018-11-29): protocol rest-json, paths
// under `/v2/`, camelCase JSON members, SigV4 with signing name `apigateway` (not
// `apigatewayv2`). Bodies are passed and returned as the wire JSON objects, so what a caller
// builds is exactly what goes out: `{"integrationType":"HTTP_PROXY","integrationUri":...}`. List
// operations follow `nextToken` until the last page and return every item.
//
// Errors are read the way botocore reads them (x-amzn-ErrorType, else the body's code, else the
// status) and mapped: NotFoundException / 404 -> mgmt::error::not_found, ConflictException / 409
// -> conflict, TooManyRequestsException / 429 -> limit_exceeded, BadRequestException and other
// 4xx -> bad_request, AccessDeniedException / 403 -> forbidden, 5xx -> server_error. Throttling
// and 5xx answers are retried a few times with a doubling pause first (as botocore's retry modes
// do, for every operation); no other 4xx is. The failure's message keeps the operation, the status, the error type and
// AWS's message: "CreateRoute: HTTP 409 ConflictException: Route key chat already exists".
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/mgmt/endpoint.hpp"
#include "apigw/mgmt/management_client.hpp"
#include "apigw/net/http_client_pool.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::mgmt {

// default_control_plane_endpoint: "https://apigateway.{region}.amazonaws.com".
std::string default_control_plane_endpoint(std::string_view region);

// control_plane_request: one request as it goes out, for observers (tests, --verbose output).
struct control_plane_request {
  std::string operation;  // "CreateRoute"
  std::string method;     // "POST"
  std::string target;     // "/v2/apis/abc/routes?nextToken=..."
  std::string body;       // JSON text; empty when the operation has no body
};

// control_plane_options: signing, the clock for signature times (system clock when null), how
// often a throttled (429 or a throttling error type) or, with `retry_server_errors`, a 5xx request
// is retried and the first pause between tries (doubled each time: 1, 2, 4, 8 s by default), and
// an optional observer called before each request (each try) is sent. Domain-name operations
// (Create/Update/DeleteDomainName), which AWS allows once per 30 s per account, wait at least
// `domain_pause` before each retry.
//
// Signing: `signing.credentials` when set (fixed keys); else `signing_lookup`, asked before every
// request (provider_signing over a credentials_provider, so refreshed credentials are used); else
// create() installs provider_signing over the default credentials chain (the process environment,
// credentials_provider.hpp). Either way a request to an endpoint that is not literally loopback
// (is_loopback_host) is never sent unsigned: without credentials it fails with signing_failed and
// the list of places the chain looked. A loopback endpoint (the local gateway with --auth none) is
// called unsigned when no credentials are found. The lookup runs on the calling coroutine's thread
// and may block while the provider fetches: resolve the provider once (get()) before the first call.
struct control_plane_options {
  signing_config signing;
  std::function<result<signing_config>(std::string_view endpoint)> signing_lookup;
  const clock* clk = nullptr;
  int throttle_retries = 4;
  std::chrono::milliseconds throttle_pause{1000};
  std::chrono::milliseconds domain_pause{30000};
  bool retry_server_errors = true;
  std::function<void(const control_plane_request&)> observer;
};

// retry_pause: the pause before retry number `retry` (0 = the first) of `operation`:
// throttle_pause doubled per retry, and at least domain_pause for the domain-name operations.
std::chrono::milliseconds retry_pause(const control_plane_options& opts, std::string_view operation, int retry);

// control_plane_error_from_response: the failure for a non-2xx response to `operation`; see the
// file comment for the mapping.
failure control_plane_error_from_response(const net::http_response& resp, std::string_view operation);

// control_plane_client: the operations `apigw-ws api` and `apigw-ws domain` use. The client (and
// the pool it was created with) must outlive the awaitables it returns. Each operation returns the
// response body as a JSON object (an empty object for 204), or a failure as described above, or
// network_error / timeout from the transport, or bad_response when a 2xx body is not a JSON object.
class control_plane_client {
 public:
  using options = control_plane_options;
  using object = boost::json::object;

  // create: a client for `endpoint_url` ("https://apigateway.eu-west-1.amazonaws.com", or the
  // local gateway's "http://127.0.0.1:4510"). Fails with invalid_endpoint when the URL cannot be
  // parsed, or when fixed credentials are set and no region is configured (with a lookup, a missing
  // region fails the first call, naming where the chain looked for one).
  static result<control_plane_client> create(net::http_client_pool& pool, std::string_view endpoint_url,
                                             options opts = {});

  // call: one operation. `path` starts with "/v2/" and has its labels already percent-encoded
  // (see encode_label); `query` has no '?' and is already encoded; `body` is sent as JSON when set.
  boost::asio::awaitable<result<object>> call(std::string_view operation, std::string_view method, std::string path,
                                              std::string query = {}, std::optional<object> body = std::nullopt);

  // list: a Get* list operation on `path`, following nextToken (sent back as the `nextToken` query
  // parameter, percent-encoded); every page's `items`.
  boost::asio::awaitable<result<std::vector<object>>> list(std::string_view operation, std::string path);

  // encode_label: a URI label as botocore sends it (every byte but A-Z a-z 0-9 - . _ ~ escaped).
  static std::string encode_label(std::string_view label) { return encode_connection_id(label); }

  // APIs: CreateApi (201), GetApi, GetApis, UpdateApi (PATCH), DeleteApi (204).
  boost::asio::awaitable<result<object>> create_api(object body);
  boost::asio::awaitable<result<object>> get_api(std::string api_id);
  boost::asio::awaitable<result<std::vector<object>>> get_apis();
  boost::asio::awaitable<result<object>> update_api(std::string api_id, object body);
  boost::asio::awaitable<result<object>> delete_api(std::string api_id);

  // Integrations of an API: CreateIntegration, GetIntegrations, UpdateIntegration, DeleteIntegration.
  boost::asio::awaitable<result<object>> create_integration(std::string api_id, object body);
  boost::asio::awaitable<result<std::vector<object>>> get_integrations(std::string api_id);
  boost::asio::awaitable<result<object>> update_integration(std::string api_id, std::string integration_id,
                                                            object body);
  boost::asio::awaitable<result<object>> delete_integration(std::string api_id, std::string integration_id);

  // Routes of an API: CreateRoute, GetRoutes, UpdateRoute, DeleteRoute.
  boost::asio::awaitable<result<object>> create_route(std::string api_id, object body);
  boost::asio::awaitable<result<std::vector<object>>> get_routes(std::string api_id);
  boost::asio::awaitable<result<object>> update_route(std::string api_id, std::string route_id, object body);
  boost::asio::awaitable<result<object>> delete_route(std::string api_id, std::string route_id);

  // Stages and deployments: CreateStage, GetStages, UpdateStage, CreateDeployment.
  boost::asio::awaitable<result<object>> create_stage(std::string api_id, object body);
  boost::asio::awaitable<result<std::vector<object>>> get_stages(std::string api_id);
  boost::asio::awaitable<result<object>> update_stage(std::string api_id, std::string stage_name, object body);
  boost::asio::awaitable<result<object>> create_deployment(std::string api_id, object body);

  // Custom domains: CreateDomainName, GetDomainName, UpdateDomainName (PATCH), CreateApiMapping,
  // GetApiMappings, UpdateApiMapping.
  boost::asio::awaitable<result<object>> create_domain_name(object body);
  boost::asio::awaitable<result<object>> get_domain_name(std::string domain_name);
  boost::asio::awaitable<result<object>> update_domain_name(std::string domain_name, object body);
  boost::asio::awaitable<result<object>> create_api_mapping(std::string domain_name, object body);
  boost::asio::awaitable<result<std::vector<object>>> get_api_mappings(std::string domain_name);
  boost::asio::awaitable<result<object>> update_api_mapping(std::string domain_name, std::string mapping_id,
                                                            object body);

  // TagResource: adds `tags` ({"key":"value"}) to the resource with this ARN (201).
  boost::asio::awaitable<result<object>> tag_resource(std::string resource_arn, object tags);
  // UntagResource: removes the tags with these keys (DELETE /v2/tags/{arn}?tagKeys=a&tagKeys=b, 204).
  boost::asio::awaitable<result<object>> untag_resource(std::string resource_arn, std::vector<std::string> tag_keys);
  // GetTags: {"tags": {...}} of the resource with this ARN.
  boost::asio::awaitable<result<object>> get_tags(std::string resource_arn);

  // region: the region requests are signed for ("" when unsigned and unknown).
  const std::string& region() const noexcept { return region_; }
  // control_plane_endpoint: the parsed endpoint.
  const endpoint& control_plane_endpoint() const noexcept { return endpoint_; }

 private:
  control_plane_client(net::http_client_pool& pool, endpoint ep, options opts, std::string region)
      : pool_(&pool), endpoint_(std::move(ep)), opts_(std::move(opts)), region_(std::move(region)) {}

  net::http_client_pool* pool_;
  endpoint endpoint_;
  options opts_;
  std::string region_;
};

}  // namespace apigw::mgmt
