// Private to the gateway: the `apigatewayv2` control-plane subset for WebSocket APIs (spec §6):
// Create/Get/Update/Delete of Api, Integration, Route and Stage, Get* lists, CreateRouteResponse,
// CreateDeployment, TagResource/UntagResource/GetTags on APIs and stages, and DomainName
// (Create/Get/Update/Delete) and ApiMapping (recorded and echoed, not served by host name), with
// AWS's WEBSOCKET defaults, camelCase wire names, ISO-8601 dates and SDK-compatible errors
// (BadRequestException, NotFoundException, ConflictException). UpdateStage stageVariables and
// UpdateIntegration requestParameters merge (an empty value removes a key) or replace, as
// gateway_config::control_plane_maps says.
//
// Requests go through a table (control_plane/router.hpp) to one handler per operation, in one
// file per resource family under control_plane/. Resources are kept as their wire JSON objects,
// so Get* returns exactly what Create* answered. build() turns the model into the gateway_config
// the data plane serves (live, not per deployment): APIs without a stage are not served;
// integrations other than HTTP_PROXY are kept and reported but not called.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/gateway/config.hpp"
#include "apigw/net/http_message.hpp"
#include "gateway/control_plane/answer.hpp"
#include "gateway/control_plane/model.hpp"

#include <mutex>
#include <string>
#include <string_view>

namespace apigw::gateway::detail {

// control_plane: see the file comment. Thread-safe (one mutex).
class control_plane {
 public:
  // control_plane: a model holding the APIs of `initial` (ids kept, route ids generated), created
  // at `now`.
  control_plane(const gateway_config& initial, clock::time_point now);

  // answer: the HTTP response, and whether the served configuration changed.
  using answer = cp::answer;

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
  mutable std::mutex mu_;
  cp::model model_;
};

}  // namespace apigw::gateway::detail
