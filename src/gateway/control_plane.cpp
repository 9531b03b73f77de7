// The apigatewayv2 control-plane subset: request routing, AWS's WEBSOCKET defaults, validation
// through the configuration reader, and the served configuration.
#include "gateway/control_plane.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/core/json.hpp"
#include "apigw/gateway/connections_path.hpp"
#include "apigw/gateway/error.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <array>
#include <optional>

namespace apigw::gateway::detail {
namespace {

using answer = control_plane::answer;

answer error_answer(unsigned status, std::string_view type, std::string_view message,
                    std::string_view resource_type = {}) {
  json::object body{{"message", message}};
  if (!resource_type.empty()) body["resourceType"] = resource_type;
  answer a;
  a.response.status = status;
  a.response.headers.push_back({"x-amzn-ErrorType", std::string(type)});
  a.response.headers.push_back({"Content-Type", "application/json"});
  a.response.body = json::serialize(body);
  return a;
}

answer bad_request(std::string_view message) {
  return error_answer(400, "BadRequestException", message);
}

answer not_found(std::string_view what, std::string_view id) {
  return error_answer(404, "NotFoundException", fmt::format("Invalid {} identifier specified {}", what, id), what);
}

answer conflict(std::string_view message) {
  return error_answer(409, "ConflictException", message);
}

answer json_answer(unsigned status, const json::object& body, bool changed) {
  answer a;
  a.response.status = status;
  a.response.headers.push_back({"Content-Type", "application/json"});
  a.response.body = json::serialize(body);
  a.changed = changed;
  return a;
}

answer no_content(bool changed) {
  answer a;
  a.response.status = 204;
  a.changed = changed;
  return a;
}

template <class Map>
answer list_answer(const Map& items) {
  json::array out;
  for (const auto& [id, obj] : items) out.push_back(obj);
  return json_answer(200, json::object{{"items", std::move(out)}}, false);
}

// copy_members: the members of `from` named in `names` (when present) into `to`.
void copy_members(const json::object& from, json::object& to, std::initializer_list<std::string_view> names) {
  for (auto n : names) {
    if (auto it = from.find(n); it != from.end()) to[n] = it->value();
  }
}

std::string iso(clock::time_point t) {
  return format_iso8601(t);
}

json::object default_route_settings() {
  return json::object{{"dataTraceEnabled", false}, {"detailedMetricsEnabled", false}, {"loggingLevel", "OFF"}};
}

std::string api_endpoint(std::string_view api_id, std::string_view region) {
  return fmt::format("wss://{}.execute-api.{}.amazonaws.com", api_id, region);
}

std::string string_member(const json::object& o, std::string_view key) {
  return std::string(get_string(o, key).value_or(""));
}

// update_map: applies the map member `key` of an Update* body (UpdateStage stageVariables,
// UpdateIntegration requestParameters) to `stored`. merge: keys given are set, an empty value
// removes its key, keys not given stay; replace: the given map (without empty values) is the whole
// map. Returns an error message when the member is not an object of strings.
std::optional<std::string> update_map(json::object& stored, const json::object& body, std::string_view key,
                                      map_update mode) {
  const auto* given = body.if_contains(key);
  if (given == nullptr) return std::nullopt;
  if (!given->is_object()) return fmt::format("{} must be a map of strings", key);
  for (const auto& [k, v] : given->get_object()) {
    if (!v.is_string()) return fmt::format("{} must be a map of strings", key);
  }
  json::object result;
  if (mode == map_update::merge) {
    if (const auto* have = stored.if_contains(key); have != nullptr && have->is_object()) result = have->get_object();
  }
  for (const auto& [k, v] : given->get_object()) {
    if (v.get_string().empty()) {
      result.erase(k);
    } else {
      result[k] = v;
    }
  }
  stored[key] = std::move(result);
  return std::nullopt;
}

constexpr std::array<std::string_view, 5> k_integration_types = {"AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"};

}  // namespace

std::string new_resource_id(std::size_t n) {
  constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::vector<std::byte> random(n);
  (void)random_bytes(random);
  std::string out;
  for (auto b : random) out += alphabet[static_cast<unsigned char>(b) % alphabet.size()];
  return out;
}

control_plane::control_plane(const gateway_config& initial)
    : region_(initial.region), keys_(initial.keys), maps_(initial.control_plane_maps) {
  const auto now = system_clock_source::instance().now();
  for (const auto& api : initial.apis) {
    api_model m;
    m.api = json::object{{"apiId", api.id},
                         {"apiEndpoint", api_endpoint(api.id, region_)},
                         {"apiKeySelectionExpression", "$request.header.x-api-key"},
                         {"createdDate", iso(now)},
                         {"disableExecuteApiEndpoint", false},
                         {"name", api.name},
                         {"protocolType", "WEBSOCKET"},
                         {"routeSelectionExpression", api.route_selection.text}};
    for (const auto& [id, integ] : api.integrations) {
      json::object params;
      for (const auto& [k, v] : integ.request_parameters) params[k] = v;
      json::object o{{"connectionType", "INTERNET"},
                     {"integrationId", id},
                     {"integrationMethod", integ.method},
                     {"integrationType", integ.type},
                     {"integrationUri", integ.uri},
                     {"payloadFormatVersion", "1.0"},
                     {"timeoutInMillis", integ.timeout.count()}};
      if (!params.empty()) o["requestParameters"] = std::move(params);
      m.integrations.emplace(id, std::move(o));
    }
    for (const auto& [key, route] : api.routes) {
      const std::string route_id = new_resource_id(7);
      json::object o{
          {"apiKeyRequired", false}, {"authorizationType", "NONE"}, {"routeId", route_id}, {"routeKey", key}};
      if (!route.integration_id.empty()) o["target"] = "integrations/" + route.integration_id;
      if (route.two_way) {
        o["routeResponseSelectionExpression"] = "$default";
        m.route_responses[route_id].push_back(
            json::object{{"routeResponseId", new_resource_id(6)}, {"routeResponseKey", "$default"}});
      }
      m.routes.emplace(route_id, std::move(o));
    }
    for (const auto& [name, stage] : api.stages) {
      json::object vars;
      for (const auto& [k, v] : stage.variables) vars[k] = v;
      m.stages.emplace(name, json::object{{"createdDate", iso(now)},
                                          {"defaultRouteSettings", default_route_settings()},
                                          {"lastUpdatedDate", iso(now)},
                                          {"routeSettings", json::object{}},
                                          {"stageName", name},
                                          {"stageVariables", std::move(vars)}});
    }
    apis_.emplace(api.id, std::move(m));
  }
}

control_plane::answer control_plane::handle(std::string_view method, std::string_view target, std::string_view body,
                                            clock::time_point now) {
  std::string_view path = target;
  std::string_view query;
  if (const auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  std::vector<std::string> seg;
  path.remove_prefix(std::min<std::size_t>(path.size(), 4));  // "/v2/"
  while (!path.empty()) {
    const auto slash = path.find('/');
    auto decoded = percent_decode(path.substr(0, slash));
    if (!decoded) return bad_request("malformed path");
    seg.push_back(std::move(*decoded));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  json::object obj;
  if (!body.empty() && method != "GET" && method != "DELETE") {
    auto parsed = parse_json_object(body);
    if (!parsed) return bad_request(fmt::format("Invalid request body: {}", parsed.error().message));
    obj = std::move(*parsed);
  }
  std::lock_guard lock(mu_);
  return dispatch(method, seg, query, obj, now);
}

control_plane::answer control_plane::dispatch(std::string_view method, const std::vector<std::string>& seg,
                                              std::string_view query, const json::object& body, clock::time_point now) {
  if (!seg.empty() && seg[0] == "domainnames") return domain_call(method, seg, body);
  if (!seg.empty() && seg[0] == "tags") return tags_call(method, seg, query, body);
  if (seg.empty() || seg[0] != "apis") {
    return error_answer(404, "NotFoundException", "apigw-ws serves apis, domainnames and tags only");
  }
  if (seg.size() == 1) {
    if (method == "GET") {
      json::array items;
      for (const auto& [id, m] : apis_) items.push_back(m.api);
      return json_answer(200, json::object{{"items", std::move(items)}}, false);
    }
    if (method != "POST") return bad_request("unsupported method");
    // CreateApi (spec §6.1, defaults §6.2).
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
    while (apis_.contains(id));
    json::object api{{"apiId", id},
                     {"apiEndpoint", api_endpoint(id, region_)},
                     {"apiKeySelectionExpression", "$request.header.x-api-key"},
                     {"createdDate", iso(now)},
                     {"disableExecuteApiEndpoint", false},
                     {"name", *name},
                     {"protocolType", "WEBSOCKET"},
                     {"routeSelectionExpression", *rse}};
    copy_members(body, api,
                 {"apiKeySelectionExpression", "description", "disableSchemaValidation", "disableExecuteApiEndpoint",
                  "ipAddressType", "tags", "version"});
    api_model m;
    m.api = api;
    apis_.emplace(id, std::move(m));
    return json_answer(201, api, false);
  }
  auto it = apis_.find(seg[1]);
  if (it == apis_.end()) return not_found("API", seg[1]);
  if (seg.size() == 2) {
    if (method == "GET") return json_answer(200, it->second.api, false);
    if (method == "DELETE") {
      apis_.erase(it);
      return no_content(true);
    }
    if (method == "PATCH") {
      // UpdateApi: the members given replace the stored ones; the result must still be servable.
      for (std::string_view key : {"name", "routeSelectionExpression", "description"}) {
        if (body.contains(key) && !get_string(body, key)) return bad_request(fmt::format("{} must be a string", key));
      }
      if (auto rse = get_string(body, "routeSelectionExpression")) {
        if (auto e = parse_selection_expression(*rse); !e) return bad_request(e.error().message);
      }
      if (auto name = get_string(body, "name"); name && name->empty()) return bad_request("name cannot be empty");
      api_model updated = it->second;
      copy_members(body, updated.api,
                   {"apiKeySelectionExpression", "description", "disableSchemaValidation", "disableExecuteApiEndpoint",
                    "ipAddressType", "name", "routeSelectionExpression", "version"});
      if (auto served = served_api(updated); !served) return bad_request(served.error().message);
      it->second = std::move(updated);
      return json_answer(200, it->second.api, true);
    }
    return bad_request("unsupported method");
  }
  // Every change is checked by building what the data plane would serve; a failure rolls back.
  api_model before = it->second;
  answer a = api_call(method, it->second, seg, body, now);
  if (a.changed) {
    if (auto served = served_api(it->second); !served) {
      it->second = std::move(before);
      return bad_request(served.error().message);
    }
  }
  return a;
}

control_plane::answer control_plane::api_call(std::string_view method, api_model& m,
                                              const std::vector<std::string>& seg, const json::object& body,
                                              clock::time_point now) {
  const std::string& kind = seg[2];
  if (kind == "integrations") {
    if (seg.size() == 3 && method == "GET") return list_answer(m.integrations);
    if (seg.size() == 3 && method == "POST") {
      const auto type = get_string(body, "integrationType");
      if (!type) return bad_request("integrationType is required");
      if (std::find(k_integration_types.begin(), k_integration_types.end(), *type) == k_integration_types.end()) {
        return bad_request(fmt::format("Invalid integration type {}", *type));
      }
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
      m.integrations.emplace(id, o);
      return json_answer(201, o, true);
    }
    if (seg.size() == 4) {
      auto it = m.integrations.find(seg[3]);
      if (it == m.integrations.end()) return not_found("Integration", seg[3]);
      if (method == "GET") return json_answer(200, it->second, false);
      if (method == "DELETE") {
        // [unverified] AWS's exact type and wording for deleting an integration a route targets.
        for (const auto& [route_id, r] : m.routes) {
          if (string_member(r, "target") == "integrations/" + it->first) {
            return conflict(fmt::format("Integration {} is used by route {}", it->first, route_id));
          }
        }
        m.integrations.erase(it);
        return no_content(true);
      }
      if (method == "PATCH") {
        // UpdateIntegration: the members given replace the stored ones (requestParameters whole).
        if (auto t = body.find("timeoutInMillis"); t != body.end()) {
          if (!t->value().is_int64() || t->value().get_int64() < 50 || t->value().get_int64() > 29000) {
            return bad_request("timeoutInMillis must be between 50 and 29000");
          }
        }
        if (auto type = get_string(body, "integrationType");
            type &&
            std::find(k_integration_types.begin(), k_integration_types.end(), *type) == k_integration_types.end()) {
          return bad_request(fmt::format("Invalid integration type {}", *type));
        }
        json::object updated = it->second;
        copy_members(body, updated,
                     {"connectionType", "connectionId", "contentHandlingStrategy", "credentialsArn", "description",
                      "integrationMethod", "integrationSubtype", "integrationType", "integrationUri",
                      "passthroughBehavior", "payloadFormatVersion", "requestTemplates", "responseParameters",
                      "templateSelectionExpression", "timeoutInMillis", "tlsConfig"});
        // requestParameters: merged key by key, "" removing a key (or replaced whole; see map_update).
        if (auto bad = update_map(updated, body, "requestParameters", maps_)) return bad_request(*bad);
        if (const auto* p = updated.if_contains("requestParameters"); p != nullptr && p->as_object().empty()) {
          updated.erase("requestParameters");
        }
        it->second = std::move(updated);
        return json_answer(200, it->second, true);
      }
    }
    return bad_request("unsupported integrations request");
  }
  if (kind == "routes") {
    if (seg.size() == 3 && method == "GET") return list_answer(m.routes);
    if (seg.size() == 3 && method == "POST") {
      const auto key = get_string(body, "routeKey");
      if (!key || key->empty()) return bad_request("routeKey is required");
      if (key->starts_with('$') && *key != "$connect" && *key != "$disconnect" && *key != "$default") {
        return bad_request(
            fmt::format("Invalid route key {}: only $connect, $disconnect and $default may start "
                        "with '$'",
                        *key));
      }
      for (const auto& [id, r] : m.routes) {
        if (string_member(r, "routeKey") == *key) return conflict(fmt::format("Route key {} already exists", *key));
      }
      if (auto target = get_string(body, "target")) {
        if (!target->starts_with("integrations/") || !m.integrations.contains(std::string(target->substr(13)))) {
          return bad_request(fmt::format("Invalid target {}", *target));
        }
      }
      const std::string id = new_resource_id(7);
      json::object o{{"apiKeyRequired", false}, {"authorizationType", "NONE"}, {"routeId", id}, {"routeKey", *key}};
      copy_members(
          body, o,
          {"apiKeyRequired", "authorizationScopes", "authorizationType", "authorizerId", "modelSelectionExpression",
           "operationName", "requestModels", "requestParameters", "routeResponseSelectionExpression", "target"});
      m.routes.emplace(id, o);
      return json_answer(201, o, true);
    }
    if (seg.size() >= 4) {
      auto it = m.routes.find(seg[3]);
      if (it == m.routes.end()) return not_found("Route", seg[3]);
      if (seg.size() == 4 && method == "GET") return json_answer(200, it->second, false);
      if (seg.size() == 4 && method == "DELETE") {
        m.route_responses.erase(it->first);
        m.routes.erase(it);
        return no_content(true);
      }
      if (seg.size() == 4 && method == "PATCH") {
        // UpdateRoute: a new key must stay unique; a new target must name an integration.
        if (auto key = get_string(body, "routeKey")) {
          for (const auto& [id, r] : m.routes) {
            if (id != it->first && string_member(r, "routeKey") == *key) {
              return conflict(fmt::format("Route key {} already exists", *key));
            }
          }
        }
        if (auto target = get_string(body, "target")) {
          if (!target->starts_with("integrations/") || !m.integrations.contains(std::string(target->substr(13)))) {
            return bad_request(fmt::format("Invalid target {}", *target));
          }
        }
        copy_members(body, it->second,
                     {"apiKeyRequired", "authorizationScopes", "authorizationType", "authorizerId",
                      "modelSelectionExpression", "operationName", "requestModels", "requestParameters", "routeKey",
                      "routeResponseSelectionExpression", "target"});
        return json_answer(200, it->second, true);
      }
      if (seg.size() == 5 && seg[4] == "routeresponses") {
        auto& responses = m.route_responses[it->first];
        if (method == "GET") {
          json::array items;
          for (const auto& r : responses) items.push_back(r);
          return json_answer(200, json::object{{"items", std::move(items)}}, false);
        }
        if (method == "POST") {
          const auto key = get_string(body, "routeResponseKey");
          if (!key || key->empty()) return bad_request("routeResponseKey is required");
          json::object o{{"routeResponseId", new_resource_id(6)}, {"routeResponseKey", *key}};
          copy_members(body, o, {"modelSelectionExpression", "responseModels", "responseParameters"});
          responses.push_back(o);
          return json_answer(201, o, true);
        }
      }
    }
    return bad_request("unsupported routes request");
  }
  if (kind == "stages") {
    if (seg.size() == 3 && method == "GET") return list_answer(m.stages);
    if (seg.size() == 3 && method == "POST") {
      const auto name = get_string(body, "stageName");
      if (!name || name->empty()) return bad_request("stageName is required");
      if (*name == "$default") return bad_request("The $default stage is only supported for HTTP APIs");
      if (stage_name_taken(*name)) {
        // AWS scopes stage names per API; one local port serves every API, so they must differ.
        return conflict(fmt::format("Stage {} already exists", *name));
      }
      json::object o{{"createdDate", iso(now)},     {"defaultRouteSettings", default_route_settings()},
                     {"lastUpdatedDate", iso(now)}, {"routeSettings", json::object{}},
                     {"stageName", *name},          {"stageVariables", json::object{}}};
      copy_members(body, o,
                   {"accessLogSettings", "autoDeploy", "clientCertificateId", "defaultRouteSettings", "deploymentId",
                    "description", "routeSettings", "stageVariables", "tags"});
      m.stages.emplace(std::string(*name), o);
      return json_answer(201, o, true);
    }
    if (seg.size() == 4) {
      auto it = m.stages.find(seg[3]);
      if (it == m.stages.end()) return not_found("Stage", seg[3]);
      if (method == "GET") return json_answer(200, it->second, false);
      if (method == "DELETE") {
        m.stages.erase(it);
        return no_content(true);
      }
      if (method == "PATCH") {
        // UpdateStage: deploymentId must name a deployment of this API.
        if (auto dep = get_string(body, "deploymentId"); dep && !m.deployments.contains(std::string(*dep))) {
          return not_found("Deployment", *dep);
        }
        json::object updated = it->second;
        copy_members(body, updated,
                     {"accessLogSettings", "autoDeploy", "clientCertificateId", "defaultRouteSettings", "deploymentId",
                      "description", "routeSettings"});
        // stageVariables: merged key by key, "" removing a variable (or replaced whole; see map_update).
        if (auto bad = update_map(updated, body, "stageVariables", maps_)) return bad_request(*bad);
        updated["lastUpdatedDate"] = iso(now);
        it->second = std::move(updated);
        return json_answer(200, it->second, true);
      }
    }
    return bad_request("unsupported stages request");
  }
  if (kind == "deployments") {
    if (seg.size() == 3 && method == "GET") return list_answer(m.deployments);
    if (seg.size() == 3 && method == "POST") {
      const auto stage = get_string(body, "stageName");
      if (stage && !m.stages.contains(std::string(*stage))) return not_found("Stage", *stage);
      const std::string id = new_resource_id(6);
      json::object o{
          {"autoDeployed", false}, {"createdDate", iso(now)}, {"deploymentId", id}, {"deploymentStatus", "DEPLOYED"}};
      copy_members(body, o, {"description"});
      m.deployments.emplace(id, o);
      if (stage) {
        auto& st = m.stages.at(std::string(*stage));
        st["deploymentId"] = id;
        st["lastUpdatedDate"] = iso(now);
      }
      return json_answer(201, o, false);
    }
    if (seg.size() == 4) {
      auto it = m.deployments.find(seg[3]);
      if (it == m.deployments.end()) return not_found("Deployment", seg[3]);
      if (method == "GET") return json_answer(200, it->second, false);
    }
    return bad_request("unsupported deployments request");
  }
  return error_answer(404, "NotFoundException", fmt::format("apigw-ws does not serve {} yet", kind));
}

control_plane::answer control_plane::domain_call(std::string_view method, const std::vector<std::string>& seg,
                                                 const json::object& body) {
  // Custom domain names and their API mappings are recorded and echoed; the local gateway does not
  // serve traffic by host name (clients keep using ws://HOST:PORT/{stage}).
  if (seg.size() == 1) {
    if (method == "GET") {
      json::array items;
      for (const auto& [name, d] : domains_) items.push_back(d.domain);
      return json_answer(200, json::object{{"items", std::move(items)}}, false);
    }
    if (method != "POST") return bad_request("unsupported method");
    const auto name = get_string(body, "domainName");
    if (!name || name->empty()) return bad_request("domainName is required");
    if (domains_.contains(std::string(*name))) return conflict(fmt::format("Domain name {} already exists", *name));
    json::array configs;
    if (auto it = body.find("domainNameConfigurations"); it != body.end() && it->value().is_array()) {
      for (const auto& c : it->value().get_array()) {
        if (!c.is_object()) return bad_request("domainNameConfigurations items must be objects");
        json::object out{
            {"apiGatewayDomainName", fmt::format("d-{}.execute-api.{}.amazonaws.com", new_resource_id(10), region_)},
            {"domainNameStatus", "AVAILABLE"},
            {"endpointType", "REGIONAL"},
            {"hostedZoneId", "Z2FDTNDATAQYW2"},
            {"securityPolicy", "TLS_1_2"}};
        copy_members(c.get_object(), out, {"certificateArn", "endpointType", "securityPolicy", "ipAddressType"});
        configs.push_back(std::move(out));
      }
    }
    if (configs.empty()) return bad_request("domainNameConfigurations needs a certificateArn");
    json::object d{{"apiMappingSelectionExpression", "$request.basepath"},
                   {"domainName", *name},
                   {"domainNameConfigurations", std::move(configs)}};
    copy_members(body, d, {"tags"});
    domains_[std::string(*name)].domain = d;
    return json_answer(201, d, false);
  }
  auto it = domains_.find(seg[1]);
  if (it == domains_.end()) return not_found("domain name", seg[1]);
  if (seg.size() == 2) {
    if (method == "GET") return json_answer(200, it->second.domain, false);
    if (method == "DELETE") {
      domains_.erase(it);
      return no_content(false);
    }
    if (method == "PATCH") {
      // UpdateDomainName: each given configuration updates the one at its position (the regional
      // target name and hosted zone stay, as when AWS swaps a certificate); members as in Create.
      const auto* given = body.if_contains("domainNameConfigurations");
      if (given == nullptr) return json_answer(200, it->second.domain, false);
      if (!given->is_array() || given->get_array().empty()) {
        return bad_request("domainNameConfigurations must be a non-empty list");
      }
      json::array have;
      if (const auto* h = it->second.domain.if_contains("domainNameConfigurations"); h != nullptr && h->is_array()) {
        have = h->get_array();
      }
      json::array out;
      for (std::size_t i = 0; i < given->get_array().size(); ++i) {
        const auto& c = given->get_array()[i];
        if (!c.is_object()) return bad_request("domainNameConfigurations items must be objects");
        for (std::string_view key : {"endpointType", "securityPolicy"}) {
          const auto v = get_string(c.get_object(), key);
          if (c.get_object().contains(key) && !v) return bad_request(fmt::format("{} must be a string", key));
          if (key == "endpointType" && v && *v != "REGIONAL" && *v != "EDGE") {
            return bad_request(fmt::format("Invalid endpointType {}", *v));
          }
          if (key == "securityPolicy" && v && *v != "TLS_1_0" && *v != "TLS_1_2") {
            return bad_request(fmt::format("Invalid securityPolicy {}", *v));
          }
        }
        json::object o = i < have.size() && have[i].is_object()
                             ? have[i].get_object()
                             : json::object{{"apiGatewayDomainName", fmt::format("d-{}.execute-api.{}.amazonaws.com",
                                                                                 new_resource_id(10), region_)},
                                            {"domainNameStatus", "AVAILABLE"},
                                            {"endpointType", "REGIONAL"},
                                            {"hostedZoneId", "Z2FDTNDATAQYW2"},
                                            {"securityPolicy", "TLS_1_2"}};
        copy_members(c.get_object(), o, {"certificateArn", "endpointType", "securityPolicy", "ipAddressType"});
        if (string_member(o, "certificateArn").empty()) return bad_request("certificateArn is required");
        out.push_back(std::move(o));
      }
      it->second.domain["domainNameConfigurations"] = std::move(out);
      return json_answer(200, it->second.domain, false);
    }
    return bad_request("unsupported method");
  }
  if (seg[2] != "apimappings") return bad_request("unsupported domainnames request");
  auto& mappings = it->second.mappings;
  const auto check = [&](const json::object& m) -> std::optional<answer> {
    const std::string api_id = string_member(m, "apiId");
    auto api = apis_.find(api_id);
    if (api == apis_.end()) return not_found("API", api_id);
    if (!api->second.stages.contains(string_member(m, "stage"))) return not_found("Stage", string_member(m, "stage"));
    for (const auto& [id, other] : mappings) {
      if (id != string_member(m, "apiMappingId") &&
          string_member(other, "apiMappingKey") == string_member(m, "apiMappingKey")) {
        return conflict(fmt::format("API mapping key \"{}\" already exists", string_member(m, "apiMappingKey")));
      }
    }
    return std::nullopt;
  };
  if (seg.size() == 3) {
    if (method == "GET") return list_answer(mappings);
    if (method != "POST") return bad_request("unsupported method");
    if (!get_string(body, "apiId") || !get_string(body, "stage")) return bad_request("apiId and stage are required");
    json::object m{{"apiMappingId", new_resource_id(6)}, {"apiMappingKey", ""}};
    copy_members(body, m, {"apiId", "apiMappingKey", "stage"});
    if (auto refused = check(m)) return std::move(*refused);
    mappings.emplace(string_member(m, "apiMappingId"), m);
    return json_answer(201, m, false);
  }
  auto mit = mappings.find(seg[3]);
  if (mit == mappings.end()) return not_found("API mapping", seg[3]);
  if (method == "GET") return json_answer(200, mit->second, false);
  if (method == "DELETE") {
    mappings.erase(mit);
    return no_content(false);
  }
  if (method == "PATCH") {
    json::object m = mit->second;
    copy_members(body, m, {"apiId", "apiMappingKey", "stage"});
    if (auto refused = check(m)) return std::move(*refused);
    mit->second = std::move(m);
    return json_answer(200, mit->second, false);
  }
  return bad_request("unsupported method");
}

control_plane::answer control_plane::tags_call(std::string_view method, const std::vector<std::string>& seg,
                                               std::string_view query, const json::object& body) {
  // TagResource (POST, 201), UntagResource (DELETE ?tagKeys=a&tagKeys=b, 204) and GetTags (GET) on
  // an API's or a stage's ARN: arn:aws:apigateway:{region}::/apis/{apiId}[/stages/{stageName}].
  if (seg.size() != 2) return bad_request("unsupported tags request");
  constexpr std::string_view marker = "::/apis/";
  const auto at = seg[1].find(marker);
  if (at == std::string::npos) return not_found("resource", seg[1]);
  std::string api_id = seg[1].substr(at + marker.size());
  std::string stage_name;
  if (const auto slash = api_id.find('/'); slash != std::string::npos) {
    constexpr std::string_view stages = "/stages/";
    if (api_id.compare(slash, stages.size(), stages) != 0) return not_found("resource", seg[1]);
    stage_name = api_id.substr(slash + stages.size());
    api_id.resize(slash);
  }
  auto it = apis_.find(api_id);
  if (it == apis_.end()) return not_found("resource", seg[1]);
  json::object* resource = &it->second.api;
  if (!stage_name.empty()) {
    auto st = it->second.stages.find(stage_name);
    if (st == it->second.stages.end()) return not_found("resource", seg[1]);
    resource = &st->second;
  }
  json::object tags;
  if (const auto* t = resource->if_contains("tags"); t != nullptr && t->is_object()) tags = t->get_object();
  if (method == "GET") return json_answer(200, json::object{{"tags", tags}}, false);
  if (method == "DELETE") {
    // tagKeys is a required list in the query string, each key repeated.
    std::vector<std::string> keys;
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const auto eq = pair.find('=');
      if (pair.substr(0, eq) == "tagKeys" && eq != std::string_view::npos) {
        auto key = percent_decode(pair.substr(eq + 1));
        if (!key) return bad_request("malformed tagKeys");
        keys.push_back(std::move(*key));
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
    if (keys.empty()) return bad_request("tagKeys is required");
    for (const auto& k : keys) tags.erase(k);
    (*resource)["tags"] = std::move(tags);
    return no_content(false);
  }
  if (method != "POST") return bad_request("unsupported method");
  const auto* add = body.if_contains("tags");
  if (add == nullptr || !add->is_object()) return bad_request("tags is required");
  for (const auto& [k, v] : add->get_object()) tags[k] = v;
  (*resource)["tags"] = std::move(tags);
  return json_answer(201, json::object{}, false);
}

bool control_plane::stage_name_taken(std::string_view name) const {
  for (const auto& [id, m] : apis_) {
    if (m.stages.contains(std::string(name))) return true;
  }
  return false;
}

result<api_config> control_plane::served_api(const api_model& m) const {
  // The served form is the configuration file's format: checked by the same reader.
  json::array integrations;
  for (const auto& [id, o] : m.integrations) {
    if (string_member(o, "integrationType") != "HTTP_PROXY") continue;
    json::object i{{"integrationId", id}};
    copy_members(o, i,
                 {"integrationType", "integrationMethod", "integrationUri", "requestParameters", "timeoutInMillis"});
    integrations.push_back(std::move(i));
  }
  json::array routes;
  for (const auto& [id, o] : m.routes) {
    json::object r{{"routeKey", o.at("routeKey")}};
    const std::string target = string_member(o, "target");
    if (target.starts_with("integrations/")) {
      auto integ = m.integrations.find(target.substr(13));
      if (integ != m.integrations.end() && string_member(integ->second, "integrationType") == "HTTP_PROXY") {
        r["target"] = target;
      }
    }
    copy_members(o, r, {"routeResponseSelectionExpression"});
    json::array responses;
    if (auto it = m.route_responses.find(id); it != m.route_responses.end()) {
      for (const auto& rr : it->second)
        responses.push_back(json::object{{"routeResponseKey", rr.at("routeResponseKey")}});
    }
    if (!responses.empty()) r["routeResponses"] = std::move(responses);
    routes.push_back(std::move(r));
  }
  json::array stages;
  for (const auto& [name, o] : m.stages) {
    json::object s{{"stageName", name}};
    copy_members(o, s, {"stageVariables"});
    stages.push_back(std::move(s));
  }
  if (stages.empty()) stages.push_back(json::object{{"stageName", "apigw-ws-validation-only"}});
  json::object api{{"apiId", m.api.at("apiId")},
                   {"name", m.api.at("name")},
                   {"routeSelectionExpression", m.api.at("routeSelectionExpression")},
                   {"stages", std::move(stages)},
                   {"integrations", std::move(integrations)},
                   {"routes", std::move(routes)}};
  auto cfg = parse_gateway_config(json::serialize(json::object{{"apis", json::array{std::move(api)}}}));
  if (!cfg) return cfg.error();
  return std::move(cfg->apis.front());
}

gateway_config control_plane::build() const {
  std::lock_guard lock(mu_);
  gateway_config out;
  out.region = region_;
  out.keys = keys_;
  out.control_plane_maps = maps_;
  for (const auto& [id, m] : apis_) {
    if (m.stages.empty()) continue;
    if (auto api = served_api(m)) out.apis.push_back(std::move(*api));
  }
  return out;
}

std::string control_plane::save() const {
  std::lock_guard lock(mu_);
  const auto objects = [](const auto& map) {
    json::array out;
    for (const auto& [key, obj] : map) out.push_back(obj);
    return out;
  };
  json::array apis;
  for (const auto& [id, m] : apis_) {
    json::object responses;
    for (const auto& [route_id, list] : m.route_responses) {
      json::array items;
      for (const auto& r : list) items.push_back(r);
      responses[route_id] = std::move(items);
    }
    apis.push_back(json::object{{"api", m.api},
                                {"integrations", objects(m.integrations)},
                                {"routes", objects(m.routes)},
                                {"routeResponses", std::move(responses)},
                                {"stages", objects(m.stages)},
                                {"deployments", objects(m.deployments)}});
  }
  return json::serialize(json::object{{"version", 1}, {"apis", std::move(apis)}});
}

result<void> control_plane::load(std::string_view text) {
  const auto bad = [](std::string_view why) { return failure{error::invalid_config, std::string(why)}; };
  auto root = parse_json_object(text);
  if (!root) return bad(root.error().message);
  if (get_int(*root, "version") != 1) return bad("\"version\" must be 1");
  auto apis_it = root->find("apis");
  if (apis_it == root->end() || !apis_it->value().is_array()) return bad("\"apis\" must be an array");
  std::map<std::string, api_model> loaded;
  std::map<std::string, std::string> stage_owner;
  for (const auto& item : apis_it->value().get_array()) {
    if (!item.is_object()) return bad("apis items must be objects");
    const auto& o = item.get_object();
    api_model m;
    const auto take = [&](std::string_view key, std::string_view id_member, auto& into) -> result<void> {
      auto it = o.find(key);
      if (it == o.end()) return ok();
      if (!it->value().is_array()) return bad(fmt::format("\"{}\" must be an array", key));
      for (const auto& x : it->value().get_array()) {
        const auto* obj = x.if_object();
        const auto id = obj != nullptr ? get_string(*obj, id_member) : std::nullopt;
        if (!id) return bad(fmt::format("every {} item needs \"{}\"", key, id_member));
        into.emplace(std::string(*id), *obj);
      }
      return ok();
    };
    auto api = o.find("api");
    if (api == o.end() || !api->value().is_object()) return bad("every API needs an \"api\" object");
    m.api = api->value().get_object();
    const auto api_id = get_string(m.api, "apiId");
    if (!api_id || !get_string(m.api, "name") || !get_string(m.api, "routeSelectionExpression")) {
      return bad("an api needs apiId, name and routeSelectionExpression");
    }
    if (auto r = take("integrations", "integrationId", m.integrations); !r) return r.error();
    if (auto r = take("routes", "routeId", m.routes); !r) return r.error();
    if (auto r = take("stages", "stageName", m.stages); !r) return r.error();
    if (auto r = take("deployments", "deploymentId", m.deployments); !r) return r.error();
    if (auto rr = o.find("routeResponses"); rr != o.end() && rr->value().is_object()) {
      for (const auto& [route_id, list] : rr->value().get_object()) {
        if (!list.is_array()) return bad("routeResponses values must be arrays");
        for (const auto& r : list.get_array()) {
          if (!r.is_object()) return bad("route responses must be objects");
          m.route_responses[std::string(route_id)].push_back(r.get_object());
        }
      }
    }
    for (const auto& [name, st] : m.stages) {
      if (!stage_owner.emplace(name, std::string(*api_id)).second) {
        return bad(fmt::format("stage {} belongs to two APIs", name));
      }
    }
    if (auto served = served_api(m); !served) return bad(fmt::format("api {}: {}", *api_id, served.error().message));
    loaded.emplace(std::string(*api_id), std::move(m));
  }
  std::lock_guard lock(mu_);
  apis_ = std::move(loaded);
  return ok();
}

}  // namespace apigw::gateway::detail
