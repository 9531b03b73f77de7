// apigw/mgmt/management_client.hpp: the `@connections` Management API (service
// `apigatewaymanagementapi`): PostToConnection, GetConnection, DeleteConnection.
//
// Requests are what botocore sends: `POST|GET|DELETE {endpoint path}/@connections/{encoded id}`,
// the data as the raw body with no Content-Type, SigV4-signed for service `execute-api` when
// credentials are configured. Errors are read the way botocore reads them (semantics §5.3): the
// `x-amzn-ErrorType` header cut at ':' and after '#', else the body's `code`/`Code`/`__type`, else
// the HTTP status; then mapped onto mgmt::error (GoneException or 410 -> gone, and so on).
//
// The pieces are public so the fan-out sender and tests can use them one by one: build_request,
// sign_request, error_from_response, parse_connection_info.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/mgmt/endpoint.hpp"
#include "apigw/mgmt/error.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/net/http_message.hpp"
#include "apigw/sigv4/signer.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace apigw::mgmt {

// signing_config: how requests to one endpoint are signed. No credentials: requests go unsigned
// (the local gateway accepts that). `region` overrides the region read from the host name.
struct signing_config {
  std::optional<sigv4::credentials> credentials;
  std::string region;
};

// connection_identity / connection_info: what GetConnection returns (wire names connectedAt,
// identity.sourceIp, identity.userAgent, lastActiveAt).
struct connection_identity {
  std::string source_ip;
  std::string user_agent;
};
struct connection_info {
  clock::time_point connected_at;
  connection_identity identity;
  clock::time_point last_active_at;
};

// build_request: the unsigned request for `method` ("POST", "GET" or "DELETE") on `connection_id`
// with `body` (PostToConnection's data). Fails before anything is sent: invalid_connection_id when
// the id is not 1..128 characters of [A-Za-z0-9_=+/-]; payload_too_large ("message is N bytes;
// the limit is 131072 bytes") when the body is over the limit.
result<net::http_request> build_request(const endpoint& ep, std::string_view method, std::string_view connection_id,
                                        std::string body = {});

// signing_region: the region to sign for: `config.region` when set, else the endpoint's.
// Fails with invalid_endpoint when credentials are set and neither names a region.
result<std::string> signing_region(const endpoint& ep, const signing_config& config);

// sign_request: adds X-Amz-Date, X-Amz-Security-Token (temporary credentials) and Authorization
// (service execute-api, `region`, time `now`) when `config` has credentials; does nothing
// otherwise. Fails with signing_failed when the signer refuses the credentials.
result<void> sign_request(net::http_request& req, const signing_config& config, const std::string& region,
                          clock::time_point now);

// error_type_of: the error code botocore would report for a response: the x-amzn-ErrorType
// header (any case) cut at the first ':' and after the last '#'; else the JSON body's `code`,
// `Code` or `__type` (after '#'); else the status as text ("410").
std::string error_type_of(const net::http_response& resp);

// error_from_response: the failure for a non-2xx response to operation `operation` ("PostToConnection")
// on `connection_id`. GoneException or 410 -> gone; ForbiddenException, AccessDeniedException,
// MissingAuthenticationTokenException, InvalidSignatureException, ... or 403 -> forbidden;
// PayloadTooLargeException or 413 -> payload_too_large; LimitExceededException,
// ThrottlingException, TooManyRequestsException or 429 -> limit_exceeded; other 4xx ->
// bad_request; 5xx -> server_error; anything else -> unexpected_status. The message names the
// operation, the id, the status, the error type and the body's message.
failure error_from_response(const net::http_response& resp, std::string_view operation, std::string_view connection_id);

// transport_failure: a failure of the HTTP layer re-coded as mgmt::error::timeout or
// network_error (invalid_endpoint for a malformed URL), keeping its message.
failure transport_failure(const failure& f, std::string_view operation, std::string_view connection_id);

// parse_connection_info: GetConnection's JSON body. Fails with bad_response when it is not JSON,
// lacks connectedAt, or a time is not ISO-8601.
result<connection_info> parse_connection_info(std::string_view body);

// parse_iso8601: "2025-03-05T10:00:00.120Z" (fraction optional, "Z" or "+hh:mm") -> time point.
// Fails with bad_response.
result<clock::time_point> parse_iso8601(std::string_view text);

// post_to_connection: one PostToConnection through `pool` (size check, id check, signing, status
// mapping). Succeeds on any 2xx. The fan-out sender calls this for every attempt. Every argument
// passed by reference must outlive the returned awaitable.
boost::asio::awaitable<result<void>> post_to_connection(net::http_client_pool& pool, const endpoint& ep,
                                                        const signing_config& signing, const std::string& region,
                                                        const clock& clk, std::string connection_id, std::string data);

// management_client_options: signing and the clock used for signature times (system clock when
// null).
struct management_client_options {
  signing_config signing;
  const clock* clk = nullptr;
};

// management_client: the three operations against one endpoint, sharing a connection pool. The
// client (and its pool) must outlive the awaitables its operations return.
class management_client {
 public:
  using options = management_client_options;

  // create: a client for `endpoint_url`. Fails with invalid_endpoint when the URL cannot be parsed,
  // or when credentials are set and no region is known. `pool` must outlive the client.
  static result<management_client> create(net::http_client_pool& pool, std::string_view endpoint_url,
                                          options opts = {});

  // post_to_connection: sends `data` (at most 131072 bytes) to the connection. Errors as
  // error_from_response, plus invalid_connection_id / payload_too_large before sending and
  // network_error / timeout from the transport.
  boost::asio::awaitable<result<void>> post_to_connection(std::string connection_id, std::string data);

  // get_connection: the connection's times and identity. Errors as post_to_connection, plus
  // bad_response for a body that cannot be parsed.
  boost::asio::awaitable<result<connection_info>> get_connection(std::string connection_id);

  // delete_connection: closes the connection (204; any 2xx is success). Errors as
  // post_to_connection; a second delete of the same id is gone.
  boost::asio::awaitable<result<void>> delete_connection(std::string connection_id);

  // management_endpoint: the parsed endpoint.
  const endpoint& management_endpoint() const noexcept { return endpoint_; }

 private:
  management_client(net::http_client_pool& pool, endpoint ep, options opts, std::string region)
      : pool_(&pool), endpoint_(std::move(ep)), opts_(std::move(opts)), region_(std::move(region)) {}
  boost::asio::awaitable<result<net::http_response>> call(std::string_view method, std::string_view operation,
                                                          std::string connection_id, std::string body);

  net::http_client_pool* pool_;
  endpoint endpoint_;
  options opts_;
  std::string region_;
};

}  // namespace apigw::mgmt
