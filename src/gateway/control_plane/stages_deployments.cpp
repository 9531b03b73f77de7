// Control plane, stages and deployments of an API: Create/Get/Update/Delete Stage, GetStages,
// DeleteAccessLogSettings, CreateDeployment, GetDeployment(s). Stage settings (accessLogSettings,
// defaultRouteSettings, routeSettings) are checked against the botocore model's shapes, stored
// and returned in its camelCase wire form. Stages are served live (not per deployment); a deployment
// only records itself on the stage it names.
#include "gateway/control_plane/lookup.hpp"

namespace apigw::gateway::detail::cp {
namespace {

// -- stages -------------------------------------------------------------------------------------

// check_route_settings: a RouteSettings object as the botocore model types it (loggingLevel
// INFO|ERROR|OFF, booleans, an integer burst and a number rate, neither negative). The messages
// are ours: AWS's wording for these refusals is unconfirmed.
std::optional<std::string> check_route_settings(const json::value& v, std::string_view where) {
  if (!v.is_object()) return fmt::format("{} must be an object", where);
  for (const auto& [k, x] : v.get_object()) {
    const std::string_view key = k;
    if (key == "loggingLevel") {
      if (!x.is_string() || (x.get_string() != "INFO" && x.get_string() != "ERROR" && x.get_string() != "OFF")) {
        return fmt::format("Invalid loggingLevel in {}: must be one of INFO, ERROR, OFF", where);
      }
    } else if (key == "dataTraceEnabled" || key == "detailedMetricsEnabled") {
      if (!x.is_bool()) return fmt::format("{}.{} must be a boolean", where, key);
    } else if (key == "throttlingBurstLimit") {
      if (!x.is_int64() || x.get_int64() < 0) return fmt::format("{}.{} must be a non-negative integer", where, key);
    } else if (key == "throttlingRateLimit") {
      if (!x.is_number() || x.to_number<double>() < 0) {
        return fmt::format("{}.{} must be a non-negative number", where, key);
      }
    } else {
      return fmt::format("{} has an unknown member {}", where, key);
    }
  }
  return std::nullopt;
}

// check_access_log: AccessLogSettings: a CloudWatch Logs log group ARN and a format of 1-1024
// characters that includes $context.requestId (the model's documentation says so).
std::optional<std::string> check_access_log(const json::value& v) {
  if (!v.is_object()) return std::string("accessLogSettings must be an object");
  for (const auto& [k, x] : v.get_object()) {
    if (k != "destinationArn" && k != "format") {
      return fmt::format("accessLogSettings has an unknown member {}", std::string_view(k));
    }
    if (!x.is_string()) return fmt::format("accessLogSettings.{} must be a string", std::string_view(k));
  }
  const std::string arn = string_member(v.get_object(), "destinationArn");
  const std::string format = string_member(v.get_object(), "format");
  if (arn.empty() && format.empty()) return std::nullopt;  // no access log
  if (!arn.starts_with("arn:") || arn.find(":logs:") == std::string::npos ||
      arn.find(":log-group:") == std::string::npos) {
    return fmt::format("Invalid destination ARN {}: a CloudWatch Logs log group ARN is required", arn);
  }
  if (format.empty() || format.size() > 1024) return std::string("Access log format must be 1-1024 characters");
  if (format.find("$context.requestId") == std::string::npos) {
    return std::string("Access log format must include at least $context.requestId");
  }
  return std::nullopt;
}

// check_stage_settings: the stage settings of a CreateStage or UpdateStage body.
std::optional<std::string> check_stage_settings(const json::object& body) {
  if (const auto* d = body.if_contains("defaultRouteSettings")) {
    if (auto bad = check_route_settings(*d, "defaultRouteSettings")) return bad;
  }
  if (const auto* rs = body.if_contains("routeSettings")) {
    if (!rs->is_object()) return std::string("routeSettings must be an object of RouteSettings by route key");
    for (const auto& [key, v] : rs->get_object()) {
      if (auto bad = check_route_settings(v, fmt::format("routeSettings.{}", std::string_view(key)))) return bad;
    }
  }
  if (const auto* a = body.if_contains("accessLogSettings")) return check_access_log(*a);
  return std::nullopt;
}

// merge_route_settings: the members of `given` over the stored defaultRouteSettings (what is not
// given stays, as a PATCH leaves it).
void merge_route_settings(json::object& stage, const json::object& body) {
  const auto* given = body.if_contains("defaultRouteSettings");
  if (given == nullptr) return;
  auto* stored = stage.if_contains("defaultRouteSettings");
  json::object merged = stored != nullptr && stored->is_object() ? stored->get_object() : default_route_settings();
  for (const auto& [k, v] : given->get_object()) merged[k] = v;
  stage["defaultRouteSettings"] = std::move(merged);
}

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
  if (auto bad = check_stage_settings(r.body)) return bad_request(*bad);
  json::object o{{"createdDate", iso(r.now)},
                 {"defaultRouteSettings", default_route_settings()},
                 {"lastUpdatedDate", iso(r.now)},
                 {"routeSettings", json::object{}},
                 {"stageName", *name},
                 {"stageVariables", json::object{}}};
  copy_members(r.body, o,
               {"accessLogSettings", "autoDeploy", "clientCertificateId", "deploymentId", "description",
                "routeSettings", "stageVariables", "tags"});
  merge_route_settings(o, r.body);
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
    if (auto bad = check_stage_settings(body)) return bad_request(*bad);
    json::object updated = it->second;
    copy_members(
        body, updated,
        {"accessLogSettings", "autoDeploy", "clientCertificateId", "deploymentId", "description", "routeSettings"});
    merge_route_settings(updated, body);
    // stageVariables: merged key by key, "" removing a variable (or replaced whole; see map_update).
    if (auto bad = update_map(updated, body, "stageVariables", s.maps)) return bad_request(*bad);
    updated["lastUpdatedDate"] = iso(r.now);
    it->second = std::move(updated);
    return json_answer(200, it->second, true);
  });
}

// delete_access_log_settings: DeleteAccessLogSettings (204): the stage keeps no access log.
answer delete_access_log_settings(model& s, const request& r) {
  return with_child(s, r, &api_model::stages, "Stage", [&](api_model&, auto it) {
    it->second.erase("accessLogSettings");
    it->second["lastUpdatedDate"] = iso(r.now);
    return no_content(true);
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
      {"DELETE", "/apis/{apiId}/stages/{stageName}/accesslogsettings", delete_access_log_settings, true},
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
