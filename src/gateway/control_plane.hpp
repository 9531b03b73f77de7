// Private to the gateway: the `apigatewayv2` control-plane subset for WebSocket APIs (spec §6):
// Create/Get/Update/Delete of Api, Integration, Route and Stage, Get* lists, CreateRouteResponse,
// CreateDeployment, TagResource/UntagResource/GetTags on APIs and stages, and DomainName
// (Create/Get/Update/Delete) and ApiMapping (recorded and echoed, not served by host name), with
// AWS's WEBSOCKET defaults, camelCase wire names, ISO-8601 dates and SDK-compatible errors
// (BadRequestException, NotFoundException, ConflictException). UpdateStage stageVariables and
// UpdateIntegration requestParameters merge (an empty value removes a key) or replace, as
// gateway_config::control_plane_maps says.
//
// Resources are kept as their wire JSON objects, so Get* returns exactly what Create* answered.
// build() turns the model into the gateway_config the data plane serves (live, not per
// deployment): APIs without a stage are not served; integrations other than HTTP_PROXY are kept
// and reported but not called.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/gateway/config.hpp"
#include "apigw/net/http_message.hpp"

#include <boost/json/object.hpp>

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::gateway::detail {

// control_plane: see the file comment. Thread-safe (one mutex).
class control_plane {
 public:
  // control_plane: a model holding the APIs of `initial` (ids kept, route ids generated).
  explicit control_plane(const gateway_config& initial);

  // answer: the HTTP response, and whether the served configuration changed.
  struct answer {
    net::http_response response;
    bool changed = false;
  };

  // handle: one control-plane request (`target` as on the request line, starting with "/v2/").
  answer handle(std::string_view method, std::string_view target, std::string_view body, clock::time_point now);

  // build: the configuration the data plane serves now (region and keys from `initial`).
  gateway_config build() const;

  // save: the whole model as the state file's JSON text ({"version":1,"apis":[...]}).
  std::string save() const;

  // load: replaces the model with a saved one. Fails with invalid_config saying what is wrong (not
  // JSON, another version, a missing member, an API the data plane could not serve, a stage name
  // used twice); the model is then unchanged.
  result<void> load(std::string_view text);

 private:
  struct api_model {
    boost::json::object api;
    std::map<std::string, boost::json::object> integrations;                  // by integrationId
    std::map<std::string, boost::json::object> routes;                        // by routeId
    std::map<std::string, std::vector<boost::json::object>> route_responses;  // by routeId
    std::map<std::string, boost::json::object> stages;                        // by stageName
    std::map<std::string, boost::json::object> deployments;                   // by deploymentId
  };
  struct domain_model {
    boost::json::object domain;
    std::map<std::string, boost::json::object> mappings;  // by apiMappingId
  };

  answer dispatch(std::string_view method, const std::vector<std::string>& seg, std::string_view query,
                  const boost::json::object& body, clock::time_point now);
  answer api_call(std::string_view method, api_model& m, const std::vector<std::string>& seg,
                  const boost::json::object& body, clock::time_point now);
  answer domain_call(std::string_view method, const std::vector<std::string>& seg, const boost::json::object& body);
  answer tags_call(std::string_view method, const std::vector<std::string>& seg, std::string_view query,
                   const boost::json::object& body);
  bool stage_name_taken(std::string_view name) const;
  result<api_config> served_api(const api_model& m) const;

  mutable std::mutex mu_;
  std::string region_;
  std::vector<sigv4::credentials> keys_;
  map_update maps_ = map_update::merge;
  std::map<std::string, api_model> apis_;        // by apiId
  std::map<std::string, domain_model> domains_;  // by domainName (not saved in the state file)
};

// new_resource_id: `n` random characters of [a-z0-9] (AWS's id shapes: api 10, route and
// integration 7, deployment 6).
std::string new_resource_id(std::size_t n);

}  // namespace apigw::gateway::detail
