// Control plane, stages and deployments of an API: Create/Get/Update/Delete Stage, GetStages,
// CreateDeployment, GetDeployment(s). Stages are served live (not per deployment); a deployment
// only records itself on the stage it names.
#include "gateway/control_plane/lookup.hpp"

namespace apigw::gateway::detail::cp {
namespace {

// -- stages -------------------------------------------------------------------------------------

answer list_stages(model& s, const request& r) {
  return with_api(s, r, [](api_model& m) { return list_answer(m.stages); });
}

answer create_stage(model& s, const request& r) {
  auto* m = find_api(s, r.params[0]);
  if (m == nullptr) return not_found("API", r.params[0]);
  const auto name = get_string(r.body, "stageName");
  if (!name || name->empty()) return bad_request("stageName is required");
  if (*name == "$default") return bad_request("The $default stage is only supported for HTTP APIs");
  if (stage_name_taken(s, *name)) {
    // AWS scopes stage names per API; one local port serves every API, so they must differ.
    return conflict(fmt::format("Stage {} already exists", *name));
  }
  json::object o{{"createdDate", iso(r.now)},
                 {"defaultRouteSettings", default_route_settings()},
                 {"lastUpdatedDate", iso(r.now)},
                 {"routeSettings", json::object{}},
                 {"stageName", *name},
                 {"stageVariables", json::object{}}};
  copy_members(r.body, o,
               {"accessLogSettings", "autoDeploy", "clientCertificateId", "defaultRouteSettings", "deploymentId",
                "description", "routeSettings", "stageVariables", "tags"});
  m->stages.emplace(std::string(*name), o);
  return json_answer(201, o, true);
}

answer get_stage(model& s, const request& r) {
  return with_child(s, r, &api_model::stages, "Stage",
                    [](api_model&, auto it) { return json_answer(200, it->second, false); });
}

answer delete_stage(model& s, const request& r) {
  return with_child(s, r, &api_model::stages, "Stage", [](api_model& m, auto it) {
    m.stages.erase(it);
    return no_content(true);
  });
}

// update_stage: deploymentId must name a deployment of this API; stageVariables merge or replace
// as the map-update mode says.
answer update_stage(model& s, const request& r) {
  return with_child(s, r, &api_model::stages, "Stage", [&](api_model& m, auto it) {
    const auto& body = r.body;
    if (auto dep = get_string(body, "deploymentId"); dep && !m.deployments.contains(std::string(*dep))) {
      return not_found("Deployment", *dep);
    }
    json::object updated = it->second;
    copy_members(body, updated,
                 {"accessLogSettings", "autoDeploy", "clientCertificateId", "defaultRouteSettings", "deploymentId",
                  "description", "routeSettings"});
    // stageVariables: merged key by key, "" removing a variable (or replaced whole; see map_update).
    if (auto bad = update_map(updated, body, "stageVariables", s.maps)) return bad_request(*bad);
    updated["lastUpdatedDate"] = iso(r.now);
    it->second = std::move(updated);
    return json_answer(200, it->second, true);
  });
}

answer refuse_stage_request(model& s, const request& r) {
  return with_child(s, r, &api_model::stages, "Stage",
                    [](api_model&, auto) { return bad_request("unsupported stages request"); });
}

// refuse_stages_request: other methods on the list, and deeper paths (the stage is not looked up
// there).
answer refuse_stages_request(model& s, const request& r) {
  return with_api(s, r, [](api_model&) { return bad_request("unsupported stages request"); });
}

// -- deployments --------------------------------------------------------------------------------

answer list_deployments(model& s, const request& r) {
  return with_api(s, r, [](api_model& m) { return list_answer(m.deployments); });
}

// create_deployment: recorded, and on the stage it names; what is served does not change.
answer create_deployment(model& s, const request& r) {
  auto* m = find_api(s, r.params[0]);
  if (m == nullptr) return not_found("API", r.params[0]);
  const auto stage = get_string(r.body, "stageName");
  if (stage && !m->stages.contains(std::string(*stage))) return not_found("Stage", *stage);
  const std::string id = new_resource_id(6);
  json::object o{
      {"autoDeployed", false}, {"createdDate", iso(r.now)}, {"deploymentId", id}, {"deploymentStatus", "DEPLOYED"}};
  copy_members(r.body, o, {"description"});
  m->deployments.emplace(id, o);
  if (stage) {
    auto& st = m->stages.at(std::string(*stage));
    st["deploymentId"] = id;
    st["lastUpdatedDate"] = iso(r.now);
  }
  return json_answer(201, o, false);
}

answer get_deployment(model& s, const request& r) {
  return with_child(s, r, &api_model::deployments, "Deployment",
                    [](api_model&, auto it) { return json_answer(200, it->second, false); });
}

answer refuse_deployment_request(model& s, const request& r) {
  return with_child(s, r, &api_model::deployments, "Deployment",
                    [](api_model&, auto) { return bad_request("unsupported deployments request"); });
}

answer refuse_deployments_request(model& s, const request& r) {
  return with_api(s, r, [](api_model&) { return bad_request("unsupported deployments request"); });
}

}  // namespace

std::vector<route> stage_and_deployment_routes() {
  return {
      {"GET", "/apis/{apiId}/stages", list_stages},
      {"POST", "/apis/{apiId}/stages", create_stage, true},
      {"GET", "/apis/{apiId}/stages/{stageName}", get_stage},
      {"DELETE", "/apis/{apiId}/stages/{stageName}", delete_stage, true},
      {"PATCH", "/apis/{apiId}/stages/{stageName}", update_stage, true},
      {"*", "/apis/{apiId}/stages/{stageName}", refuse_stage_request},
      {"*", "/apis/{apiId}/stages/**", refuse_stages_request},
      {"GET", "/apis/{apiId}/deployments", list_deployments},
      {"POST", "/apis/{apiId}/deployments", create_deployment, true},
      {"GET", "/apis/{apiId}/deployments/{deploymentId}", get_deployment},
      {"*", "/apis/{apiId}/deployments/{deploymentId}", refuse_deployment_request},
      {"*", "/apis/{apiId}/deployments/**", refuse_deployments_request},
  };
}

}  // namespace apigw::gateway::detail::cp
