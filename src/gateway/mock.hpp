// Private to the gateway: MOCK integrations, answered by the gateway itself with no backend call,
// as API Gateway answers them (docs/design/gateway.md, "MOCK integrations"). The request template
// chosen by the integration's template selection expression gives the status code
// ({"statusCode": 200}); the integration response whose key matches it ("/2\d\d/", else
// "$default") gives the body through its response template. Pure: every input is passed in.
#pragma once

#include "apigw/gateway/config.hpp"
#include "apigw/gateway/route_selection.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace apigw::gateway::detail {

// mock_context: the $context variables a template may use.
struct mock_context {
  std::string_view connection_id;
  std::string_view request_id;
  std::string_view message_id;
  std::string_view route_key;
  std::string_view event_type;  // CONNECT, MESSAGE or DISCONNECT
  std::string_view api_id;
  std::string_view stage;
  std::string_view domain_name;
  std::string_view source_ip;
  std::int64_t connected_at_ms = 0;
  std::int64_t request_time_ms = 0;
};

// mock_answer: the status the request template chose and the rendered response body ("" when the
// integration response has no template), or `error` (not empty) when the integration cannot
// answer: no statusCode integer in the selected request template (or, with none, in the message
// passed through), or no integration response for that status.
struct mock_answer {
  unsigned status = 0;
  std::string body;
  std::string error;
};

// answer_mock: what MOCK integration `integ` answers to `message`.
mock_answer answer_mock(const integration_config& integ, const message_body& message, const mock_context& ctx);

// render_template: `tmpl` with $context.NAME / ${context.NAME} (connectionId, requestId,
// extendedRequestId, messageId, routeKey, eventType, apiId, stage, domainName, identity.sourceIp,
// connectedAt, requestTimeEpoch) and $input.body (the message as received) substituted. Anything
// else, VTL directives (#set, #if, ...) and other references included, is copied as written.
std::string render_template(std::string_view tmpl, const message_body& message, const mock_context& ctx);

// select_template: the template of `templates` that `selection` (a templateSelectionExpression)
// picks for `message`: the key the expression evaluates to, else "$default", else the only
// template; nullptr when there is none.
const std::string* select_template(const std::map<std::string, std::string>& templates, std::string_view selection,
                                   const message_body& message);

}  // namespace apigw::gateway::detail
