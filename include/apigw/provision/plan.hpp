// apigw/provision/plan.hpp: what has to change on the control plane for an API (and its custom
// domain) to match its api.json. Pure: `plan_api` and `plan_domain` take the desired state and
// the live state as plain data read beforehand (the control plane's objects as its wire JSON, and
// what the store recorded) and return the operations, in the order they are to be made, each with
// the line `apigw-ws api apply` prints for it. No I/O, no clock.
//
// Operations that create something another one refers to before it exists (an integration a route
// targets) name it by the placeholder id k_new_id ("(new)"); the executor (apply.hpp) puts the real
// id in when it has it.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/provision/config.hpp"

#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::provision {

// k_new_id: the id an operation uses for an integration created earlier in the same plan.
inline constexpr std::string_view k_new_id = "(new)";

// op: what an operation does. The record_route / forget_route ones only update the record (the
// store), they make no control-plane call and print nothing.
enum class op {
  create_api,
  update_api,
  untag_resource,
  tag_resource,
  create_integration,
  update_integration,
  delete_integration,
  create_route,
  update_route,
  delete_route,
  create_integration_response,
  update_integration_response,
  delete_integration_response,
  create_route_response,
  delete_route_response,
  record_route,
  forget_route,
  create_stage,
  update_stage,
  delete_access_log_settings,
  create_deployment,
  delete_stage,
  create_domain_name,
  update_domain_name,
  create_api_mapping,
  update_api_mapping,
};

// op_name: the control-plane operation ("CreateRoute", ...; "record route", "forget route").
std::string_view op_name(op kind);

// recorded_route: a route row as the store has it.
struct recorded_route {
  std::string route_key;
  std::string name;
  std::string integration_url;
  bool deployed = false;
};

// operation: one step of a plan.
struct operation {
  op kind = op::create_api;
  // target: what the call acts on: the integration id (k_new_id for one created earlier in the
  // plan), the route id, the stage name, the tagged resource's ARN, the domain name, the API
  // mapping id; empty for creations.
  std::string target;
  // child: integration and route response operations: the response id (empty for creations);
  // their `target` is the integration or route id (k_new_id for one created earlier in the plan).
  std::string child;
  std::string route_key;              // integration, route and record operations: the route concerned
  boost::json::object body;           // the request body (empty for deletions)
  std::vector<std::string> tag_keys;  // untag_resource: the keys removed
  recorded_route record;              // record_route: the row to write
  // line: what `apply` prints for the step ("+ route chat", "~ stage production: {...}");
  // empty for record operations.
  std::string line;
};

// changes: how many operations call the control plane (those with a line).
int changes(const std::vector<operation>& ops);

// api_record: what the store recorded under the API's name (all empty when nothing is).
struct api_record {
  std::string api_id;
  std::string stage;
  std::string deployment_id;
  std::vector<recorded_route> routes;
};

// live_api: the state `plan_api` works from. `api` is the API to manage (pick_api), absent when
// there is none yet; the lists are its integrations, routes and stages (GetIntegrations,
// GetRoutes, GetStages), empty when there is no API.
struct live_api {
  std::optional<boost::json::object> api;
  std::vector<boost::json::object> integrations;
  std::vector<boost::json::object> routes;
  std::vector<boost::json::object> stages;
  // The integration responses of MOCK integrations (GetIntegrationResponses, by integration id)
  // and the route responses of the routes the file makes MOCK routes (GetRouteResponses, by route
  // id); what is not listed counts as having none.
  std::map<std::string, std::vector<boost::json::object>> integration_responses;
  std::map<std::string, std::vector<boost::json::object>> route_responses;
  api_record record;
};

// pick_api: the WebSocket API named like the file among `apis` (GetApis), or nullopt when there
// is none. Two or more of that name fail with invalid_argument (the refusal to guess).
result<std::optional<boost::json::object>> pick_api(const api_config& c, const std::vector<boost::json::object>& apis);

// plan_api: the operations that make the API in `live` match `c`, in order: the API (CreateApi,
// or UpdateApi and its tags); per desired route its integration (update, reuse of an unused one
// that matches, or create) and route (create, or update of the target) followed by its record
// row; routes not in the file deleted (and their rows forgotten), rows of routes that exist
// nowhere forgotten, integrations no route uses deleted; the stage (CreateStage, or UpdateStage
// and its tags, with the stage settings: default route settings and access log, the access log
// removed by DeleteAccessLogSettings when the file has none); one CreateDeployment when anything
// the deployment holds changed, a recorded route is not deployed, or the stage does not serve the
// recorded deployment; last, DeleteStage for each other stage of the API that `c.keep_stages`
// does not name (a renamed stage stops serving once its successor is deployed). `region` builds
// the ARNs of the tagged resources. Empty when nothing differs. Never fails.
std::vector<operation> plan_api(const api_config& c, const live_api& live, std::string_view region);

// map_update_body: the map to send in an Update* call so that, whether the control plane merges
// the map it is given or replaces its map with it, the result is `want`: every wanted entry, plus
// each key `have` holds that `want` does not, with an empty value. Empty when nothing differs
// (empty values in `have` count as absent).
boost::json::object map_update_body(const std::map<std::string, std::string>& want,
                                    std::map<std::string, std::string> have);

// live_domain: the custom domain as it exists (GetDomainName; absent when not found) and its API
// mappings (GetApiMappings; empty when the domain does not exist).
struct live_domain {
  std::optional<boost::json::object> domain;
  std::vector<boost::json::object> mappings;
};

// plan_domain: the operations that make the domain match `d` and map `d.base_path` to `api_id`'s
// `stage`: CreateDomainName when missing (REGIONAL and TLS_1_2 unless configured), else
// UpdateDomainName when the first configuration has another certificate or, when configured,
// another endpoint type or security policy; then CreateApiMapping when nothing is mapped at the
// base path, or UpdateApiMapping when the mapping there points elsewhere. Never fails.
std::vector<operation> plan_domain(const domain_config& d, const live_domain& live, std::string_view api_id,
                                   std::string_view stage);

// domain_target: the first configuration's apiGatewayDomainName of a domain (the CNAME target),
// "" when it has none.
std::string domain_target(const boost::json::object& domain);

// domain_certificate: the first configuration's certificateArn of a domain, "" when none.
std::string domain_certificate(const boost::json::object& domain);

// member_string: the string member `key` of a control-plane object, or "" when it is absent,
// null (moto sends nulls) or not a string.
std::string member_string(const boost::json::object& o, std::string_view key);

}  // namespace apigw::provision
