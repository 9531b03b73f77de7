// Private to the control plane: the table that maps a method and a path to the handler of one
// apigatewayv2 operation, or to the refusal AWS-shaped clients get today for what is not served.
//
// A pattern is a path below /v2 in segments: a literal ("apis"), a parameter ("{apiId}", any one
// segment) or, last, "**" (any number of segments, zero included). The method is exact ("GET") or
// "*" (any). When several entries match, the most specific wins: more segments matched one by one,
// then more literals, then no "**", then an exact method. That makes the table order-free, so each
// resource family keeps its own entries in its own file.
#pragma once

#include "gateway/control_plane/answer.hpp"
#include "gateway/control_plane/model.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::gateway::detail::cp {

// request: one control-plane request as a handler sees it.
struct request {
  std::string_view method;
  std::vector<std::string> params;  // the "{...}" segments in order, then what "**" matched
  std::string_view query;           // after '?', still percent-encoded
  const json::object& body;         // {} for GET, DELETE and an empty body
  clock::time_point now;
};

// handler: answers one request on the model (the caller holds the model's lock).
using handler = answer (*)(model&, const request&);

// route: one table entry. `checked`: the handler changes a child of the API named by the first
// parameter, so the change is kept only when that API can still be served (see control_plane).
struct route {
  std::string_view method;
  std::string_view pattern;
  handler fn = nullptr;
  bool checked = false;
};

// match: the entry chosen for a request, and its parameters.
struct match {
  const route* entry = nullptr;
  std::vector<std::string> params;
};

// router: the table, with each pattern split once.
class router {
 public:
  // router: the entries of `table` (patterns must be well formed: "**" only last).
  explicit router(std::vector<route> table);

  // find: the most specific entry for `method` and the decoded path `segments`, or nullopt.
  std::optional<match> find(std::string_view method, const std::vector<std::string>& segments) const;

  // table: every entry, in the order given.
  const std::vector<route>& table() const { return table_; }

 private:
  std::vector<route> table_;
  std::vector<std::vector<std::string_view>> patterns_;  // table_[i]'s pattern in segments
};

// split_pattern: "/apis/{apiId}" as {"apis", "{apiId}"}.
std::vector<std::string_view> split_pattern(std::string_view pattern);

// The entries of each resource family, defined in the family's own file.
std::vector<route> api_routes();                    // apis.cpp
std::vector<route> integration_and_route_routes();  // routes_integrations.cpp
std::vector<route> stage_and_deployment_routes();   // stages_deployments.cpp
std::vector<route> domain_routes();                 // domains.cpp
std::vector<route> tag_routes();                    // tags.cpp

// control_plane_router: every family's entries and the refusal of everything else (404
// NotFoundException "apigw-ws serves apis, domainnames and tags only"), built once.
const router& control_plane_router();

}  // namespace apigw::gateway::detail::cp
