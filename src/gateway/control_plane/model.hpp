// Private to the control plane: the model every resource family works on, kept as wire JSON
// objects so Get* returns exactly what Create* answered, and what turns it into the served
// configuration and the state file.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/json.hpp"
#include "apigw/gateway/config.hpp"

#include <array>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::gateway::detail {

// new_resource_id: `n` random characters of [a-z0-9] (AWS's id shapes: api 10, route and
// integration 7, deployment 6).
std::string new_resource_id(std::size_t n);

namespace cp {

// api_model: one API and its children, each as its wire object.
struct api_model {
  json::object api;
  std::map<std::string, json::object> integrations;                        // by integrationId
  std::map<std::string, json::object> routes;                              // by routeId
  std::map<std::string, std::vector<json::object>> route_responses;        // by routeId
  std::map<std::string, std::vector<json::object>> integration_responses;  // by integrationId
  std::map<std::string, json::object> stages;                              // by stageName
  std::map<std::string, json::object> deployments;                         // by deploymentId
};

// domain_model: a custom domain name and its API mappings (recorded and echoed only).
struct domain_model {
  json::object domain;
  std::map<std::string, json::object> mappings;  // by apiMappingId
};

// model: everything the control plane holds. Not thread-safe: control_plane locks around it.
struct model {
  std::string region;
  std::vector<sigv4::credentials> keys;
  map_update maps = map_update::merge;
  std::map<std::string, api_model> apis;        // by apiId
  std::map<std::string, domain_model> domains;  // by domainName (not saved in the state file)
};

// model_from_config: the APIs of `initial` as Create* would have answered them at `now` (ids
// kept, route ids generated), with its region, keys and map-update mode.
model model_from_config(const gateway_config& initial, clock::time_point now);

// served_api: the configuration the data plane would serve for `m`, checked by the configuration
// reader (an API without a stage is checked as if it had one). Fails with the reader's
// invalid_config message; integrations other than HTTP_PROXY and MOCK are left out, and so are
// the targets of routes that name them.
result<api_config> served_api(const api_model& m);

// served_config: what the data plane serves now: every API with a stage whose configuration is
// valid, with the model's region, keys and map-update mode.
gateway_config served_config(const model& m);

// save_apis: the APIs as the state file's JSON text ({"version":1,"apis":[...]}).
std::string save_apis(const model& m);

// load_apis: the APIs of a state file. Fails with invalid_config saying what is wrong (not JSON,
// another version, a missing member, an API the data plane could not serve, a stage name used
// twice).
result<std::map<std::string, api_model>> load_apis(std::string_view text);

// find_api: the API with id `id`, or nullptr.
// served_type: whether the data plane serves integrations of this integrationType.
inline bool served_type(std::string_view type) {
  return type == "HTTP_PROXY" || type == "MOCK";
}

inline api_model* find_api(model& m, const std::string& id) {
  auto it = m.apis.find(id);
  return it == m.apis.end() ? nullptr : &it->second;
}

// stage_name_taken: whether any API has a stage called `name` (one local port serves every API,
// so stage names are unique across APIs).
bool stage_name_taken(const model& m, std::string_view name);

// copy_members: the members of `from` named in `names` (when present) into `to`.
void copy_members(const json::object& from, json::object& to, std::initializer_list<std::string_view> names);

// string_member: the string member `key` of `o`, or "" when absent or not a string.
std::string string_member(const json::object& o, std::string_view key);

// iso: AWS's timestamp form of `t`.
std::string iso(clock::time_point t);

// default_route_settings: a stage's defaultRouteSettings when none are given.
json::object default_route_settings();

// api_endpoint: the wss:// endpoint AWS would give API `api_id` in `region`.
std::string api_endpoint(std::string_view api_id, std::string_view region);

// update_map: applies the map member `key` of an Update* body (UpdateStage stageVariables,
// UpdateIntegration requestParameters) to `stored`. merge: keys given are set, an empty value
// removes its key, keys not given stay; replace: the given map (without empty values) is the whole
// map. Returns an error message when the member is not an object of strings.
std::optional<std::string> update_map(json::object& stored, const json::object& body, std::string_view key,
                                      map_update mode);

// k_integration_types: the integrationType values the control plane accepts (HTTP_PROXY and MOCK
// are served).
inline constexpr std::array<std::string_view, 5> k_integration_types = {"AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY",
                                                                        "MOCK"};

}  // namespace cp
}  // namespace apigw::gateway::detail
