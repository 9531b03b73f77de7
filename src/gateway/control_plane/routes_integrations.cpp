// Control plane, integrations and routes of an API: Create/Get/Update/Delete Integration and
// Route, Get* lists, Create/Get/Update/Delete IntegrationResponse (MOCK integrations answer
// through them), Create/Get/Delete RouteResponse and the lists of both. Every change here is kept only
// when the API can still be served (the entries are `checked`; see control_plane).
#include "gateway/control_plane/lookup.hpp"

#include <algorithm>
#include <optional>

namespace apigw::gateway::detail::cp {
namespace {

bool known_integration_type(std::string_view type) {
  return std::find(k_integration_types.begin(), k_integration_types.end(), type) != k_integration_types.end();
}

// valid_target: "integrations/{id}" naming an integration of `m`.
bool valid_target(const api_model& m, std::string_view target) {
  return target.starts_with("integrations/") && m.integrations.contains(std::string(target.substr(13)));
}

// -- integrations ---------------------------------------------------------------------------------

answer list_integrations(model& s, const request& r) {
  return with_api(s, r, [](api_model& m) { return list_answer(m.integrations); });
}

answer create_integration(model& s, const request& r) {
  auto* m = find_api(s, r.params[0]);
  if (m == nullptr) return not_found("API", r.params[0]);
  const auto& body = r.body;
  const auto type = get_string(body, "integrationType");
  if (!type) return bad_request("integrationType is required");
  if (!known_integration_type(*type)) return bad_request(fmt::format("Invalid integration type {}", *type));
  const bool is_proxy = *type == "HTTP_PROXY" || *type == "AWS_PROXY";
  if (*type != "MOCK" && !get_string(body, "integrationUri")) return bad_request("integrationUri is required");
  std::int64_t timeout = 29000;
  if (auto it = body.find("timeoutInMillis"); it != body.end()) {
    if (!it->value().is_int64() || it->value().get_int64() < 50 || it->value().get_int64() > 29000) {
      return bad_request("timeoutInMillis must be between 50 and 29000");
    }
    timeout = it->value().get_int64();
  }
  const std::string id = new_resource_id(7);
  json::object o{{"connectionType", "INTERNET"},
                 {"integrationId", id},
                 {"integrationType", *type},
                 {"payloadFormatVersion", "1.0"},
                 {"timeoutInMillis", timeout}};
  if (!is_proxy) {
    o["passthroughBehavior"] = "WHEN_NO_MATCH";
    o["integrationResponseSelectionExpression"] =
        *type == "AWS" ? "${integration.response.body.errorMessage}" : "${integration.response.statuscode}";
  }
  copy_members(
      body, o,
      {"connectionType", "connectionId", "contentHandlingStrategy", "credentialsArn", "description",
       "integrationMethod", "integrationSubtype", "integrationUri", "passthroughBehavior", "payloadFormatVersion",
       "requestParameters", "requestTemplates", "responseParameters", "templateSelectionExpression", "tlsConfig"});
  m->integrations.emplace(id, o);
  return json_answer(201, o, true);
}

answer get_integration(model& s, const request& r) {
  return with_child(s, r, &api_model::integrations, "Integration",
                    [](api_model&, auto it) { return json_answer(200, it->second, false); });
}

answer delete_integration(model& s, const request& r) {
  return with_child(s, r, &api_model::integrations, "Integration", [](api_model& m, auto it) {
    // [unverified] AWS's exact type and wording for deleting an integration a route targets.
    for (const auto& [route_id, route] : m.routes) {
      if (string_member(route, "target") == "integrations/" + it->first) {
        return conflict(fmt::format("Integration {} is used by route {}", it->first, route_id));
      }
    }
    m.integration_responses.erase(it->first);
    m.integrations.erase(it);
    return no_content(true);
  });
}

// update_integration: the members given replace the stored ones (requestParameters merged or
// replaced as the map-update mode says).
answer update_integration(model& s, const request& r) {
  return with_child(s, r, &api_model::integrations, "Integration", [&](api_model&, auto it) {
    const auto& body = r.body;
    if (auto t = body.find("timeoutInMillis"); t != body.end()) {
      if (!t->value().is_int64() || t->value().get_int64() < 50 || t->value().get_int64() > 29000) {
        return bad_request("timeoutInMillis must be between 50 and 29000");
      }
    }
    if (auto type = get_string(body, "integrationType"); type && !known_integration_type(*type)) {
      return bad_request(fmt::format("Invalid integration type {}", *type));
    }
    json::object updated = it->second;
    copy_members(body, updated,
                 {"connectionType", "connectionId", "contentHandlingStrategy", "credentialsArn", "description",
                  "integrationMethod", "integrationSubtype", "integrationType", "integrationUri", "passthroughBehavior",
                  "payloadFormatVersion", "requestTemplates", "responseParameters", "templateSelectionExpression",
                  "timeoutInMillis", "tlsConfig"});
    // requestParameters: merged key by key, "" removing a key (or replaced whole; see map_update).
    if (auto bad = update_map(updated, body, "requestParameters", s.maps)) return bad_request(*bad);
    if (const auto* p = updated.if_contains("requestParameters"); p != nullptr && p->as_object().empty()) {
      updated.erase("requestParameters");
    }
    it->second = std::move(updated);
    return json_answer(200, it->second, true);
  });
}

// -- integration responses ------------------------------------------------------------------------

// find_item: the item of `items` whose `id_member` is `id`.
std::vector<json::object>::iterator find_item(std::vector<json::object>& items, std::string_view id_member,
                                              std::string_view id) {
  return std::find_if(items.begin(), items.end(),
                      [&](const json::object& o) { return string_member(o, id_member) == id; });
}

answer list_integration_responses(model& s, const request& r) {
  return with_child(s, r, &api_model::integrations, "Integration", [](api_model& m, auto it) {
    json::array items;
    if (auto found = m.integration_responses.find(it->first); found != m.integration_responses.end()) {
      for (const auto& ir : found->second) items.push_back(ir);
    }
    return json_answer(200, json::object{{"items", std::move(items)}}, false);
  });
}

// check_string_map: the member `key` of `body`, when given, is a map of strings.
std::optional<std::string> check_string_map(const json::object& body, std::string_view key) {
  const auto* v = body.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) return fmt::format("{} must be a map of strings", key);
  for (const auto& [k, x] : v->get_object()) {
    if (!x.is_string()) return fmt::format("{} must be a map of strings", key);
  }
  return std::nullopt;
}

// create_integration_response: the key must be $default or /regex/ and new for the integration
// ([unverified] AWS's wording for both refusals).
answer create_integration_response(model& s, const request& r) {
  return with_child(s, r, &api_model::integrations, "Integration", [&](api_model& m, auto it) {
    const auto key = get_string(r.body, "integrationResponseKey");
    if (!key || key->empty()) return bad_request("integrationResponseKey is required");
    if (!valid_integration_response_key(*key)) {
      return bad_request(fmt::format("Invalid integration response key {}: use $default or /regex/", *key));
    }
    if (auto bad = check_string_map(r.body, "responseTemplates")) return bad_request(*bad);
    auto& responses = m.integration_responses[it->first];
    for (const auto& ir : responses) {
      if (string_member(ir, "integrationResponseKey") == *key) {
        return conflict(fmt::format("Integration response key {} already exists", *key));
      }
    }
    json::object o{{"integrationResponseId", new_resource_id(6)}, {"integrationResponseKey", *key}};
    copy_members(r.body, o,
                 {"contentHandlingStrategy", "responseParameters", "responseTemplates", "templateSelectionExpression"});
    responses.push_back(o);
    return json_answer(201, o, true);
  });
}

// with_integration_response: `then(list, item)` for the integration response the third path
// parameter names, or the NotFoundException of what is missing.
template <class Then>
answer with_integration_response(model& s, const request& r, Then then) {
  return with_child(s, r, &api_model::integrations, "Integration", [&](api_model& m, auto it) {
    auto& items = m.integration_responses[it->first];
    auto found = find_item(items, "integrationResponseId", r.params.at(2));
    if (found == items.end()) return not_found("IntegrationResponse", r.params.at(2));
    return then(items, found);
  });
}

answer get_integration_response(model& s, const request& r) {
  return with_integration_response(s, r, [](auto&, auto found) { return json_answer(200, *found, false); });
}

answer delete_integration_response(model& s, const request& r) {
  return with_integration_response(s, r, [](auto& items, auto found) {
    items.erase(found);
    return no_content(true);
  });
}

// update_integration_response: the members given replace the stored ones; a new key must be valid
// and stay unique.
answer update_integration_response(model& s, const request& r) {
  return with_integration_response(s, r, [&](auto& items, auto found) {
    if (auto key = get_string(r.body, "integrationResponseKey")) {
      if (!valid_integration_response_key(*key)) {
        return bad_request(fmt::format("Invalid integration response key {}: use $default or /regex/", *key));
      }
      for (auto other = items.begin(); other != items.end(); ++other) {
        if (other != found && string_member(*other, "integrationResponseKey") == *key) {
          return conflict(fmt::format("Integration response key {} already exists", *key));
        }
      }
    }
    // responseTemplates: merged key by key, "" removing a key (or replaced whole; see map_update).
    if (auto bad = update_map(*found, r.body, "responseTemplates", s.maps)) return bad_request(*bad);
    if (const auto* t = found->if_contains("responseTemplates"); t != nullptr && t->as_object().empty()) {
      found->erase("responseTemplates");
    }
    copy_members(
        r.body, *found,
        {"contentHandlingStrategy", "integrationResponseKey", "responseParameters", "templateSelectionExpression"});
    return json_answer(200, *found, true);
  });
}

answer refuse_integration_request(model& s, const request& r) {
  return with_child(s, r, &api_model::integrations, "Integration",
                    [](api_model&, auto) { return bad_request("unsupported integrations request"); });
}

// refuse_integrations_request: other methods on the list, and deeper paths (the integration id
// is not looked up there).
answer refuse_integrations_request(model& s, const request& r) {
  return with_api(s, r, [](api_model&) { return bad_request("unsupported integrations request"); });
}

// -- routes -------------------------------------------------------------------------------------

answer list_routes(model& s, const request& r) {
  return with_api(s, r, [](api_model& m) { return list_answer(m.routes); });
}

answer create_route(model& s, const request& r) {
  auto* m = find_api(s, r.params[0]);
  if (m == nullptr) return not_found("API", r.params[0]);
  const auto& body = r.body;
  const auto key = get_string(body, "routeKey");
  if (!key || key->empty()) return bad_request("routeKey is required");
  if (key->starts_with('$') && *key != "$connect" && *key != "$disconnect" && *key != "$default") {
    return bad_request(
        fmt::format("Invalid route key {}: only $connect, $disconnect and $default may start with '$'", *key));
  }
  for (const auto& [id, route] : m->routes) {
    if (string_member(route, "routeKey") == *key) return conflict(fmt::format("Route key {} already exists", *key));
  }
  if (auto target = get_string(body, "target"); target && !valid_target(*m, *target)) {
    return bad_request(fmt::format("Invalid target {}", *target));
  }
  const std::string id = new_resource_id(7);
  json::object o{{"apiKeyRequired", false}, {"authorizationType", "NONE"}, {"routeId", id}, {"routeKey", *key}};
  copy_members(
      body, o,
      {"apiKeyRequired", "authorizationScopes", "authorizationType", "authorizerId", "modelSelectionExpression",
       "operationName", "requestModels", "requestParameters", "routeResponseSelectionExpression", "target"});
  m->routes.emplace(id, o);
  return json_answer(201, o, true);
}

answer get_route(model& s, const request& r) {
  return with_child(s, r, &api_model::routes, "Route",
                    [](api_model&, auto it) { return json_answer(200, it->second, false); });
}

answer delete_route(model& s, const request& r) {
  return with_child(s, r, &api_model::routes, "Route", [](api_model& m, auto it) {
    m.route_responses.erase(it->first);
    m.routes.erase(it);
    return no_content(true);
  });
}

// update_route: a new key must stay unique; a new target must name an integration.
answer update_route(model& s, const request& r) {
  return with_child(s, r, &api_model::routes, "Route", [&](api_model& m, auto it) {
    const auto& body = r.body;
    if (auto key = get_string(body, "routeKey")) {
      for (const auto& [id, route] : m.routes) {
        if (id != it->first && string_member(route, "routeKey") == *key) {
          return conflict(fmt::format("Route key {} already exists", *key));
        }
      }
    }
    if (auto target = get_string(body, "target"); target && !valid_target(m, *target)) {
      return bad_request(fmt::format("Invalid target {}", *target));
    }
    copy_members(body, it->second,
                 {"apiKeyRequired", "authorizationScopes", "authorizationType", "authorizerId",
                  "modelSelectionExpression", "operationName", "requestModels", "requestParameters", "routeKey",
                  "routeResponseSelectionExpression", "target"});
    return json_answer(200, it->second, true);
  });
}

answer list_route_responses(model& s, const request& r) {
  return with_child(s, r, &api_model::routes, "Route", [](api_model& m, auto it) {
    json::array items;
    for (const auto& rr : m.route_responses[it->first]) items.push_back(rr);
    return json_answer(200, json::object{{"items", std::move(items)}}, false);
  });
}

answer create_route_response(model& s, const request& r) {
  return with_child(s, r, &api_model::routes, "Route", [&](api_model& m, auto it) {
    auto& responses = m.route_responses[it->first];
    const auto key = get_string(r.body, "routeResponseKey");
    if (!key || key->empty()) return bad_request("routeResponseKey is required");
    json::object o{{"routeResponseId", new_resource_id(6)}, {"routeResponseKey", *key}};
    copy_members(r.body, o, {"modelSelectionExpression", "responseModels", "responseParameters"});
    responses.push_back(o);
    return json_answer(201, o, true);
  });
}

// with_route_response: `then(list, item)` for the route response the third path parameter names,
// or the NotFoundException of what is missing.
template <class Then>
answer with_route_response(model& s, const request& r, Then then) {
  return with_child(s, r, &api_model::routes, "Route", [&](api_model& m, auto it) {
    auto& items = m.route_responses[it->first];
    auto found = find_item(items, "routeResponseId", r.params.at(2));
    if (found == items.end()) return not_found("RouteResponse", r.params.at(2));
    return then(items, found);
  });
}

answer get_route_response(model& s, const request& r) {
  return with_route_response(s, r, [](auto&, auto found) { return json_answer(200, *found, false); });
}

answer delete_route_response(model& s, const request& r) {
  return with_route_response(s, r, [](auto& items, auto found) {
    items.erase(found);
    return no_content(true);
  });
}

// refuse_route_request: other methods on a route or its responses, and deeper paths (the route
// is looked up first).
answer refuse_route_request(model& s, const request& r) {
  return with_child(s, r, &api_model::routes, "Route",
                    [](api_model&, auto) { return bad_request("unsupported routes request"); });
}

answer refuse_routes_request(model& s, const request& r) {
  return with_api(s, r, [](api_model&) { return bad_request("unsupported routes request"); });
}

}  // namespace

std::vector<route> integration_and_route_routes() {
  return {
      {"GET", "/apis/{apiId}/integrations", list_integrations},
      {"POST", "/apis/{apiId}/integrations", create_integration, true},
      {"GET", "/apis/{apiId}/integrations/{integrationId}", get_integration},
      {"DELETE", "/apis/{apiId}/integrations/{integrationId}", delete_integration, true},
      {"PATCH", "/apis/{apiId}/integrations/{integrationId}", update_integration, true},
      {"*", "/apis/{apiId}/integrations/{integrationId}", refuse_integration_request},
      {"GET", "/apis/{apiId}/integrations/{integrationId}/integrationresponses", list_integration_responses},
      {"POST", "/apis/{apiId}/integrations/{integrationId}/integrationresponses", create_integration_response, true},
      {"GET", "/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}",
       get_integration_response},
      {"DELETE", "/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}",
       delete_integration_response, true},
      {"PATCH", "/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}",
       update_integration_response, true},
      {"*", "/apis/{apiId}/integrations/**", refuse_integrations_request},
      {"GET", "/apis/{apiId}/routes", list_routes},
      {"POST", "/apis/{apiId}/routes", create_route, true},
      {"GET", "/apis/{apiId}/routes/{routeId}", get_route},
      {"DELETE", "/apis/{apiId}/routes/{routeId}", delete_route, true},
      {"PATCH", "/apis/{apiId}/routes/{routeId}", update_route, true},
      {"GET", "/apis/{apiId}/routes/{routeId}/routeresponses", list_route_responses},
      {"POST", "/apis/{apiId}/routes/{routeId}/routeresponses", create_route_response, true},
      {"GET", "/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}", get_route_response},
      {"DELETE", "/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}", delete_route_response, true},
      {"*", "/apis/{apiId}/routes/{routeId}/**", refuse_route_request},
      {"*", "/apis/{apiId}/routes/**", refuse_routes_request},
  };
}

}  // namespace apigw::gateway::detail::cp
