// Private to the gateway: building the HTTP request API Gateway sends to an HTTP_PROXY integration
// (spec §3.1-3.3): URL with stage variables and the $connect query string, the header set of
// §3.2, and the requestParameters mappings of §3.3. Pure: every input is passed in.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/gateway/config.hpp"
#include "apigw/gateway/route_selection.hpp"
#include "apigw/net/http_message.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace apigw::gateway::detail {

// handshake_info: what the client sent in its upgrade request, kept for the connection's life.
struct handshake_info {
  net::http_headers headers;  // in order, as received
  std::string query;          // raw, without '?'
  std::string source_ip;      // the peer address
  std::string forwarded_for;  // X-Forwarded-For value to send: the client's chain plus source_ip
  std::string user_agent;     // "" when the client sent none
};

// event_kind: which of the three integration events this is.
enum class event_kind { connect, message, disconnect };

// integration_call: one request to one integration.
struct integration_call {
  const api_config* api = nullptr;
  const stage_config* stage = nullptr;
  const integration_config* integration = nullptr;
  event_kind kind = event_kind::message;
  std::string route_key;
  std::string connection_id;
  std::string request_id;
  std::string message_id;   // message events only
  std::string trace_id;     // "Root=1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx"
  std::string domain_name;  // the Host the client connected to
  std::int64_t connected_at_ms = 0;
  std::int64_t request_time_ms = 0;
  const handshake_info* handshake = nullptr;
  message_body body;  // message events: the payload exactly as received, parsed at most once
  // disconnect events: the close code and reason (context.disconnectStatusCode/disconnectReason).
  std::uint16_t disconnect_status_code = 0;
  std::string disconnect_reason;
};

// request_options: the [unverified] choices of the header set, configurable.
struct request_options {
  std::string forwarded_proto = "https";
  std::string forwarded_port = "443";
  bool forward_client_headers = true;  // copy the client's headers on $connect (spec §3.2)
  bool json_content_type = true;       // application/json when the body parses, else text/plain
};

// k_max_header_value: the longest header value an integration request carries (8 KiB). A mapped
// value is client-controlled (a query parameter, a body member), so it is bounded like the rest of
// the request instead of growing the backend's header block without limit.
inline constexpr std::size_t k_max_header_value = 8192;

// build_integration_request: the request to send. Fails with invalid_config when the integration
// URI (after stage-variable substitution) is not a valid http(s) URL, and with integration_failed
// when a header it would carry is unsafe: a name that is not an HTTP token, or a value with a
// control character other than horizontal tab (CR and LF would let a client add headers or a
// second request on the trusted hop) or over k_max_header_value. The caller answers that as any
// failed integration: the client gets the error AWS sends, the backend gets nothing.
result<net::http_request> build_integration_request(const integration_call& call, const request_options& opts);

// new_trace_id: "Root=1-<8 hex seconds>-<24 random hex>" for `now_seconds`.
std::string new_trace_id(std::int64_t now_seconds);

// percent_encode_component: encodes everything but unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string percent_encode_component(std::string_view s);

}  // namespace apigw::gateway::detail
