// Control plane, APIs: CreateApi, GetApis, GetApi, UpdateApi, DeleteApi (spec §6.1, WEBSOCKET
// defaults §6.2), and the refusal of API children this gateway does not serve.
#include "gateway/control_plane/lookup.hpp"

#include "apigw/gateway/route_selection.hpp"

namespace apigw::gateway::detail::cp {
namespace {

answer list_apis(model& s, const request&) {
  json::array items;
  for (const auto& [id, m] : s.apis) items.push_back(m.api);
  return json_answer(200, json::object{{"items", std::move(items)}}, false);
}

answer create_api(model& s, const request& r) {
  const auto& body = r.body;
  const auto name = get_string(body, "name");
  if (!name || name->empty()) return bad_request("name is required");
  const auto protocol = get_string(body, "protocolType");
  if (!protocol) return bad_request("protocolType is required");
  if (*protocol != "WEBSOCKET") return bad_request("apigw-ws serves WEBSOCKET APIs only");
  for (std::string_view http_only : {"target", "routeKey", "corsConfiguration", "credentialsArn"}) {
    if (body.contains(http_only)) return bad_request(fmt::format("{} is supported only for HTTP APIs", http_only));
  }
  const auto rse = get_string(body, "routeSelectionExpression");
  if (!rse) return bad_request("routeSelectionExpression is required for WEBSOCKET APIs");
  if (auto e = parse_selection_expression(*rse); !e) return bad_request(e.error().message);
  std::string id;
  do id = new_resource_id(10);
  while (s.apis.contains(id));
  json::object api{{"apiId", id},
                   {"apiEndpoint", api_endpoint(id, s.region)},
                   {"apiKeySelectionExpression", "$request.header.x-api-key"},
                   {"createdDate", iso(r.now)},
                   {"disableExecuteApiEndpoint", false},
                   {"name", *name},
                   {"protocolType", "WEBSOCKET"},
                   {"routeSelectionExpression", *rse}};
  copy_members(body, api,
               {"apiKeySelectionExpression", "description", "disableSchemaValidation", "disableExecuteApiEndpoint",
                "ipAddressType", "tags", "version"});
  api_model m;
  m.api = api;
  s.apis.emplace(id, std::move(m));
  return json_answer(201, api, false);
}

answer get_api(model& s, const request& r) {
  return with_api(s, r, [](api_model& m) { return json_answer(200, m.api, false); });
}

answer delete_api(model& s, const request& r) {
  if (s.apis.erase(r.params[0]) == 0) return not_found("API", r.params[0]);
  return no_content(true);
}

// update_api: the members given replace the stored ones; the result must still be servable.
answer update_api(model& s, const request& r) {
  auto* m = find_api(s, r.params[0]);
  if (m == nullptr) return not_found("API", r.params[0]);
  const auto& body = r.body;
  for (std::string_view key : {"name", "routeSelectionExpression", "description"}) {
    if (body.contains(key) && !get_string(body, key)) return bad_request(fmt::format("{} must be a string", key));
  }
  if (auto rse = get_string(body, "routeSelectionExpression")) {
    if (auto e = parse_selection_expression(*rse); !e) return bad_request(e.error().message);
  }
  if (auto name = get_string(body, "name"); name && name->empty()) return bad_request("name cannot be empty");
  api_model updated = *m;
  copy_members(body, updated.api,
               {"apiKeySelectionExpression", "description", "disableSchemaValidation", "disableExecuteApiEndpoint",
                "ipAddressType", "name", "routeSelectionExpression", "version"});
  if (auto served = served_api(updated); !served) return bad_request(served.error().message);
  *m = std::move(updated);
  return json_answer(200, m->api, true);
}

answer refuse_apis_method(model&, const request&) {
  return bad_request("unsupported method");
}

answer refuse_api_method(model& s, const request& r) {
  return with_api(s, r, [](api_model&) { return bad_request("unsupported method"); });
}

// refuse_api_child: authorizers, models and the other API children (a family's own refusals
// are more specific, so this only sees the kinds no family serves).
answer refuse_api_child(model& s, const request& r) {
  return with_api(s, r, [&](api_model&) {
    return error_answer(404, "NotFoundException", fmt::format("apigw-ws does not serve {} yet", r.params.at(1)));
  });
}

}  // namespace

std::vector<route> api_routes() {
  return {
      {"GET", "/apis", list_apis},
      {"POST", "/apis", create_api},
      {"*", "/apis", refuse_apis_method},
      {"GET", "/apis/{apiId}", get_api},
      {"DELETE", "/apis/{apiId}", delete_api},
      {"PATCH", "/apis/{apiId}", update_api},
      {"*", "/apis/{apiId}", refuse_api_method},
      {"*", "/apis/{apiId}/**", refuse_api_child},
  };
}

}  // namespace apigw::gateway::detail::cp
