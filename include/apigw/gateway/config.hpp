// apigw/gateway/config.hpp: what the local gateway serves: WebSocket APIs with their stages,
// routes, integrations and route responses, in the shape (and camelCase names) of the
// apigatewayv2 control plane, read from a JSON file (`apigw-ws gateway --config`).
//
//   {"region": "us-east-1",
//    "apis": [{"apiId": "a1b2c3d4e5", "name": "chat",
//              "routeSelectionExpression": "$request.body.action",
//              "stages": [{"stageName": "dev", "stageVariables": {"backend": "127.0.0.1:8000"}}],
//              "integrations": [{"integrationId": "abc1234", "integrationType": "HTTP_PROXY",
//                                "integrationMethod": "POST",
//                                "integrationUri": "http://${stageVariables.backend}/ws/default",
//                                "requestParameters": {"integration.request.header.connectionId":
//                                                      "context.connectionId"},
//                                "timeoutInMillis": 29000},
//                               {"integrationId": "hbt0000", "integrationType": "MOCK",
//                                "requestTemplates": {"$default": "{\"statusCode\": 200}"},
//                                "templateSelectionExpression": "\\$default",
//                                "integrationResponses": [{"integrationResponseKey": "$default",
//                                  "responseTemplates": {"$default": "{\"type\": \"heartbeat\"}"}}]}],
//              "routes": [{"routeKey": "$default", "target": "integrations/abc1234",
//                          "routeResponseSelectionExpression": "$default",
//                          "routeResponses": [{"routeResponseKey": "$default"}]}]}],
//    "keys": [{"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "..."}]}
//
// With no file the gateway serves `default_dev_config()`.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/gateway/route_selection.hpp"
#include "apigw/sigv4/signer.hpp"

#include <boost/json/fwd.hpp>

#include <bitset>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::gateway {

// integration_response_config: an integration response of a MOCK integration: its key
// ("$default", or "/regex/" matched against the status code the request template chose) and its
// response templates (selection key -> template), chosen by `template_selection`.
struct integration_response_config {
  std::string key;
  std::map<std::string, std::string> templates;
  std::string template_selection;  // templateSelectionExpression as written ("" when absent)
  // statuses: for a "/regex/" key, which status codes 100-599 it matches (bit status - 100),
  // worked out once when the configuration is read, so a MOCK answer (a heartbeat from every
  // idle client) is a bit test, not a regex compile. Empty for a configuration built in code:
  // the key is then matched as written.
  std::optional<std::bitset<500>> statuses;
};

// integration_response_statuses: the status codes 100-599 a "/regex/" key matches (bit status -
// 100); nullopt for "$default" or a key that is not a valid /regex/.
std::optional<std::bitset<500>> integration_response_statuses(std::string_view key);

// integration_config: an HTTP_PROXY integration, or a MOCK one answered by the gateway itself
// (docs/design/gateway.md, "MOCK integrations").
struct integration_config {
  std::string id;
  std::string type = "HTTP_PROXY";  // or "MOCK"
  std::string method = "POST";
  std::string uri;  // may contain ${stageVariables.NAME}; empty for MOCK
  // request_parameters: target ("integration.request.header.X", ".querystring.X", ".path.X") ->
  // source ("context.connectionId", "route.request.header.X", "stageVariables.X", "'static'").
  std::map<std::string, std::string> request_parameters;
  std::chrono::milliseconds timeout{29000};  // 50 ms .. 29 s
  // MOCK only: the request templates (selection key -> template such as {"statusCode": 200}), the
  // expression choosing one, and the integration responses.
  std::map<std::string, std::string> request_templates;
  std::string template_selection;  // templateSelectionExpression as written ("" when absent)
  std::vector<integration_response_config> responses;

  bool is_mock() const noexcept { return type == "MOCK"; }
};

// route_config: a route key and the integration it targets.
struct route_config {
  std::string key;
  std::string integration_id;  // from "integrations/{id}"; empty: no integration
  bool two_way = false;        // routeResponseSelectionExpression "$default" + a $default route response
};

// stage_config: a stage, its variables and its access-log format (accessLogSettings.format; empty:
// no access log).
struct stage_config {
  std::string name;
  std::map<std::string, std::string> variables;
  std::string access_log_format;
};

// api_config: one WebSocket API.
struct api_config {
  std::string id;  // 10 lowercase alphanumerics on AWS
  std::string name;
  selection_expression route_selection;
  std::map<std::string, stage_config, std::less<>> stages;
  std::map<std::string, route_config, std::less<>> routes;
  std::map<std::string, integration_config, std::less<>> integrations;

  // find_route: the route with exactly this key, or nullptr.
  const route_config* find_route(std::string_view key) const;
  // integration_of: the integration a route targets, or nullptr.
  const integration_config* integration_of(const route_config& r) const;
};

// map_update: how the local control plane applies the `stageVariables` of UpdateStage and the
// `requestParameters` of UpdateIntegration to what it holds. `merge` (the default) is what AWS is
// reported to do: keys given are set, keys left out are kept, and a key given with an empty value
// is removed (docs/design/infra.md, "Maps on update"). `replace` makes the given map the whole
// map (empty values dropped). Not verified on AWS by this project, hence the choice.
enum class map_update { merge, replace };

// gateway_config: every API the gateway serves, the region it reports, the keys accepted in
// `--auth sigv4` mode, and how control-plane map updates apply.
struct gateway_config {
  std::string region = "us-east-1";
  std::vector<api_config> apis;
  std::vector<sigv4::credentials> keys;
  map_update control_plane_maps = map_update::merge;
};

// parse_gateway_config: reads the JSON text of a configuration. Fails with invalid_config naming
// the API, the member and what was expected: unknown or missing members, a route target naming an
// unknown integration, a reserved key misuse, a timeout outside 50..29000 ms, a stage served by two
// APIs, a malformed route selection expression or integration URI.
result<gateway_config> parse_gateway_config(std::string_view json_text);

// valid_integration_response_key: "$default", or "/regex/" with a regular expression that compiles
// (ECMAScript syntax here; AWS documents Java's).
bool valid_integration_response_key(std::string_view key);

// read_api_config: one item of a configuration's "apis", already parsed, with the same checks
// (named apis[index] in messages until its apiId is read). For callers that hold the JSON
// objects, such as the control plane, so nothing is printed and parsed again.
result<api_config> read_api_config(const boost::json::object& api, std::size_t index);

// load_gateway_config: reads and parses `file`; a file that cannot be read is invalid_config
// naming it.
result<gateway_config> load_gateway_config(const std::filesystem::path& file);

// default_dev_config: one API ("devapi0001", stage "dev") whose $connect, $disconnect and $default
// routes go to `{backend_base}connect`, `disconnect` and `default` (backend_base defaults to
// "http://127.0.0.1:8000/ws/"), each mapping context.connectionId into the connectionId header,
// and a one-way `heartbeat` route to a MOCK integration (the browser client's heartbeat, answered
// by the gateway with no backend call and nothing sent back).
gateway_config default_dev_config(std::string_view backend_base = "http://127.0.0.1:8000/ws/");

}  // namespace apigw::gateway
