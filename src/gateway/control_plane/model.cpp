// The control plane's model: the initial APIs from the configuration, the served configuration
// (checked by the configuration reader, on the JSON objects the model holds), the state file, and
// the wire helpers every resource family shares.
#include "gateway/control_plane/model.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/gateway/error.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

namespace apigw::gateway::detail {

std::string new_resource_id(std::size_t n) {
  constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::vector<std::byte> random(n);
  (void)random_bytes(random);
  std::string out;
  for (auto b : random) out += alphabet[static_cast<unsigned char>(b) % alphabet.size()];
  return out;
}

namespace cp {

void copy_members(const json::object& from, json::object& to, std::initializer_list<std::string_view> names) {
  for (auto n : names) {
    if (auto it = from.find(n); it != from.end()) to[n] = it->value();
  }
}

std::string string_member(const json::object& o, std::string_view key) {
  return std::string(get_string(o, key).value_or(""));
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

namespace {

// api_from_config: one configured API with its children, as Create* answers them at `now`.
api_model api_from_config(const api_config& api, std::string_view region, clock::time_point now) {
  api_model m;
  m.api = json::object{{"apiId", api.id},
                       {"apiEndpoint", api_endpoint(api.id, region)},
                       {"apiKeySelectionExpression", "$request.header.x-api-key"},
                       {"createdDate", iso(now)},
                       {"disableExecuteApiEndpoint", false},
                       {"name", api.name},
                       {"protocolType", "WEBSOCKET"},
                       {"routeSelectionExpression", api.route_selection.text}};
  const auto string_object = [](const std::map<std::string, std::string>& from) {
    json::object out;
    for (const auto& [k, v] : from) out[k] = v;
    return out;
  };
  for (const auto& [id, integ] : api.integrations) {
    if (integ.is_mock()) {
      json::object o{{"connectionType", "INTERNET"},
                     {"integrationId", id},
                     {"integrationResponseSelectionExpression", "${integration.response.statuscode}"},
                     {"integrationType", "MOCK"},
                     {"passthroughBehavior", "WHEN_NO_MATCH"},
                     {"payloadFormatVersion", "1.0"},
                     {"timeoutInMillis", integ.timeout.count()}};
      if (!integ.request_templates.empty()) o["requestTemplates"] = string_object(integ.request_templates);
      if (!integ.template_selection.empty()) o["templateSelectionExpression"] = integ.template_selection;
      for (const auto& r : integ.responses) {
        json::object ir{{"integrationResponseId", new_resource_id(6)}, {"integrationResponseKey", r.key}};
        if (!r.templates.empty()) ir["responseTemplates"] = string_object(r.templates);
        if (!r.template_selection.empty()) ir["templateSelectionExpression"] = r.template_selection;
        m.integration_responses[id].push_back(std::move(ir));
      }
      m.integrations.emplace(id, std::move(o));
      continue;
    }
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
    json::object o{{"apiKeyRequired", false}, {"authorizationType", "NONE"}, {"routeId", route_id}, {"routeKey", key}};
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
  return m;
}

}  // namespace

model model_from_config(const gateway_config& initial, clock::time_point now) {
  model out;
  out.region = initial.region;
  out.keys = initial.keys;
  out.maps = initial.control_plane_maps;
  for (const auto& api : initial.apis) out.apis.emplace(api.id, api_from_config(api, out.region, now));
  return out;
}

result<api_config> served_api(const api_model& m) {
  // The served form is the configuration file's format, read by the same reader (from the JSON
  // objects directly: no text in between).
  json::array integrations;
  for (const auto& [id, o] : m.integrations) {
    const std::string type = string_member(o, "integrationType");
    if (!served_type(type)) continue;
    json::object i{{"integrationId", id}};
    if (type == "MOCK") {
      copy_members(o, i, {"integrationType", "requestTemplates", "templateSelectionExpression", "timeoutInMillis"});
      json::array responses;
      if (auto it = m.integration_responses.find(id); it != m.integration_responses.end()) {
        for (const auto& ir : it->second) {
          json::object served{{"integrationResponseKey", ir.at("integrationResponseKey")}};
          copy_members(ir, served, {"responseTemplates", "templateSelectionExpression"});
          responses.push_back(std::move(served));
        }
      }
      if (!responses.empty()) i["integrationResponses"] = std::move(responses);
    } else {
      copy_members(o, i,
                   {"integrationType", "integrationMethod", "integrationUri", "requestParameters", "timeoutInMillis"});
    }
    integrations.push_back(std::move(i));
  }
  json::array routes;
  for (const auto& [id, o] : m.routes) {
    json::object r{{"routeKey", o.at("routeKey")}};
    const std::string target = string_member(o, "target");
    if (target.starts_with("integrations/")) {
      auto integ = m.integrations.find(target.substr(13));
      if (integ != m.integrations.end() && served_type(string_member(integ->second, "integrationType"))) {
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
    copy_members(o, s, {"stageVariables", "accessLogSettings"});
    stages.push_back(std::move(s));
  }
  if (stages.empty()) stages.push_back(json::object{{"stageName", "apigw-ws-validation-only"}});
  const json::object api{{"apiId", m.api.at("apiId")},
                         {"name", m.api.at("name")},
                         {"routeSelectionExpression", m.api.at("routeSelectionExpression")},
                         {"stages", std::move(stages)},
                         {"integrations", std::move(integrations)},
                         {"routes", std::move(routes)}};
  return read_api_config(api, 0);
}

gateway_config served_config(const model& m) {
  gateway_config out;
  out.region = m.region;
  out.keys = m.keys;
  out.control_plane_maps = m.maps;
  for (const auto& [id, api] : m.apis) {
    if (api.stages.empty()) continue;
    if (auto served = served_api(api)) out.apis.push_back(std::move(*served));
  }
  return out;
}

std::string save_apis(const model& m) {
  const auto objects = [](const auto& map) {
    json::array out;
    for (const auto& [key, obj] : map) out.push_back(obj);
    return out;
  };
  const auto lists = [](const std::map<std::string, std::vector<json::object>>& by_parent) {
    json::object out;
    for (const auto& [parent, list] : by_parent) {
      json::array items;
      for (const auto& r : list) items.push_back(r);
      out[parent] = std::move(items);
    }
    return out;
  };
  json::array apis;
  for (const auto& [id, api] : m.apis) {
    json::object o{{"api", api.api},
                   {"integrations", objects(api.integrations)},
                   {"routes", objects(api.routes)},
                   {"routeResponses", lists(api.route_responses)},
                   {"stages", objects(api.stages)},
                   {"deployments", objects(api.deployments)}};
    // Only when there are some, so a state file without MOCK integrations reads as before.
    if (auto responses = lists(api.integration_responses); !responses.empty()) {
      o["integrationResponses"] = std::move(responses);
    }
    apis.push_back(std::move(o));
  }
  return json::serialize(json::object{{"version", 1}, {"apis", std::move(apis)}});
}

namespace {

failure bad_state(std::string_view why) {
  return failure{error::invalid_config, std::string(why)};
}

// take_children: the objects of the array member `key` of `o` into `into`, keyed by their
// string member `id_member`. An absent member is no children.
result<void> take_children(const json::object& o, std::string_view key, std::string_view id_member,
                           std::map<std::string, json::object>& into) {
  auto it = o.find(key);
  if (it == o.end()) return ok();
  if (!it->value().is_array()) return bad_state(fmt::format("\"{}\" must be an array", key));
  for (const auto& x : it->value().get_array()) {
    const auto* obj = x.if_object();
    const auto id = obj != nullptr ? get_string(*obj, id_member) : std::nullopt;
    if (!id) return bad_state(fmt::format("every {} item needs \"{}\"", key, id_member));
    into.emplace(std::string(*id), *obj);
  }
  return ok();
}

// take_lists: the object member `key` of `o` (parent id -> array of objects, each with its string
// member `id_member`) into `into`. An absent member is no children.
result<void> take_lists(const json::object& o, std::string_view key, std::string_view id_member,
                        std::map<std::string, std::vector<json::object>>& into) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_object()) return ok();
  for (const auto& [parent, list] : it->value().get_object()) {
    if (!list.is_array()) return bad_state(fmt::format("{} values must be arrays", key));
    auto& items = into[std::string(parent)];
    for (const auto& r : list.get_array()) {
      if (!r.is_object()) return bad_state(fmt::format("{} items must be objects", key));
      if (!get_string(r.get_object(), id_member)) {
        return bad_state(fmt::format("every {} item needs \"{}\"", key, id_member));
      }
      items.push_back(r.get_object());
    }
  }
  return ok();
}

// load_api: one item of the state file's "apis".
result<api_model> load_api(const json::object& o) {
  api_model m;
  auto api = o.find("api");
  if (api == o.end() || !api->value().is_object()) return bad_state("every API needs an \"api\" object");
  m.api = api->value().get_object();
  if (!get_string(m.api, "apiId") || !get_string(m.api, "name") || !get_string(m.api, "routeSelectionExpression")) {
    return bad_state("an api needs apiId, name and routeSelectionExpression");
  }
  if (auto r = take_children(o, "integrations", "integrationId", m.integrations); !r) return r.error();
  if (auto r = take_children(o, "routes", "routeId", m.routes); !r) return r.error();
  if (auto r = take_children(o, "stages", "stageName", m.stages); !r) return r.error();
  if (auto r = take_children(o, "deployments", "deploymentId", m.deployments); !r) return r.error();
  if (auto r = take_lists(o, "routeResponses", "routeResponseId", m.route_responses); !r) return r.error();
  if (auto r = take_lists(o, "integrationResponses", "integrationResponseId", m.integration_responses); !r) {
    return r.error();
  }
  return m;
}

}  // namespace

result<std::map<std::string, api_model>> load_apis(std::string_view text) {
  auto root = parse_json_object(text);
  if (!root) return bad_state(root.error().message);
  if (get_int(*root, "version") != 1) return bad_state("\"version\" must be 1");
  auto apis_it = root->find("apis");
  if (apis_it == root->end() || !apis_it->value().is_array()) return bad_state("\"apis\" must be an array");
  std::map<std::string, api_model> loaded;
  std::map<std::string, std::string> stage_owner;
  for (const auto& item : apis_it->value().get_array()) {
    if (!item.is_object()) return bad_state("apis items must be objects");
    auto m = load_api(item.get_object());
    if (!m) return m.error();
    const std::string api_id(*get_string(m->api, "apiId"));
    for (const auto& [name, st] : m->stages) {
      if (!stage_owner.emplace(name, api_id).second)
        return bad_state(fmt::format("stage {} belongs to two APIs", name));
    }
    if (auto served = served_api(*m); !served) {
      return bad_state(fmt::format("api {}: {}", api_id, served.error().message));
    }
    loaded.emplace(api_id, std::move(*m));
  }
  return loaded;
}

bool stage_name_taken(const model& m, std::string_view name) {
  for (const auto& [id, api] : m.apis) {
    if (api.stages.contains(std::string(name))) return true;
  }
  return false;
}

}  // namespace cp
}  // namespace apigw::gateway::detail
