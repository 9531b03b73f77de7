// Reading the gateway configuration file (apigatewayv2-shaped JSON) into api_config values,
// checking every member so a mistake is reported with the API and member it is in.
#include "apigw/gateway/config.hpp"

#include "apigw/core/json.hpp"
#include "apigw/gateway/error.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <set>

// GW_TRY(lhs, expr): evaluates the result `expr`; returns its failure, or assigns its value to
// `lhs` (which may declare a variable: `GW_TRY(auto x, f())`).
#define GW_CONCAT2(a, b) a##b
#define GW_CONCAT(a, b) GW_CONCAT2(a, b)
#define GW_TRY(lhs, expr)                                                         \
  auto GW_CONCAT(gw_try_, __LINE__) = (expr);                                     \
  if (!GW_CONCAT(gw_try_, __LINE__)) return GW_CONCAT(gw_try_, __LINE__).error(); \
  lhs = std::move(*GW_CONCAT(gw_try_, __LINE__))

namespace apigw::gateway {

bool valid_integration_response_key(std::string_view key) {
  if (key == "$default") return true;
  if (key.size() < 3 || key.front() != '/' || key.back() != '/') return false;
  try {
    std::regex re(std::string(key.substr(1, key.size() - 2)));
  } catch (const std::regex_error&) {
    return false;
  }
  return true;
}

std::optional<std::bitset<500>> integration_response_statuses(std::string_view key) {
  if (key == "$default" || key.size() < 3 || key.front() != '/' || key.back() != '/') return std::nullopt;
  try {
    const std::regex re(std::string(key.substr(1, key.size() - 2)));
    std::bitset<500> statuses;
    for (unsigned status = 100; status < 600; ++status) {
      statuses[status - 100] = std::regex_match(std::to_string(status), re);
    }
    return statuses;
  } catch (const std::regex_error&) {
    return std::nullopt;
  }
}

namespace {

failure bad(std::string_view where, std::string_view why) {
  return failure{error::invalid_config, fmt::format("gateway config: {}: {}", where, why)};
}

// check_members: every member of `obj` is one of `allowed`.
result<void> check_members(const json::object& obj, std::string_view where,
                           std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : obj) {
    bool known = false;
    for (auto a : allowed) known = known || kv.key() == a;
    if (!known) return bad(where, fmt::format("unknown member \"{}\"", std::string_view(kv.key())));
  }
  return ok();
}

result<std::string> required_string(const json::object& obj, std::string_view where, std::string_view key) {
  auto v = get_string(obj, key);
  if (!v || v->empty()) return bad(where, fmt::format("\"{}\" must be a non-empty string", key));
  return std::string(*v);
}

result<const json::array*> optional_array(const json::object& obj, std::string_view where, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end()) return nullptr;
  if (!it->value().is_array()) return bad(where, fmt::format("\"{}\" must be an array", key));
  return &it->value().get_array();
}

result<std::map<std::string, std::string>> string_map(const json::object& obj, std::string_view where,
                                                      std::string_view key) {
  std::map<std::string, std::string> out;
  auto it = obj.find(key);
  if (it == obj.end()) return out;
  if (!it->value().is_object()) return bad(where, fmt::format("\"{}\" must be an object of strings", key));
  for (const auto& kv : it->value().get_object()) {
    if (!kv.value().is_string()) {
      return bad(where, fmt::format("\"{}.{}\" must be a string", key, std::string_view(kv.key())));
    }
    out.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
  }
  return out;
}

bool valid_parameter_target(std::string_view t) {
  for (std::string_view p :
       {"integration.request.header.", "integration.request.querystring.", "integration.request.path."}) {
    if (t.starts_with(p) && t.size() > p.size()) return true;
  }
  return false;
}

bool valid_parameter_source(std::string_view s) {
  if (s.size() >= 2 && s.front() == '\'' && s.back() == '\'') return true;
  for (std::string_view p :
       {"context.", "stageVariables.", "route.request.header.", "route.request.multivalueheader.",
        "route.request.querystring.", "route.request.multivaluequerystring.", "route.request.body."}) {
    if (s.starts_with(p) && s.size() > p.size()) return true;
  }
  return false;
}

// parse_integration_responses: a MOCK integration's "integrationResponses" (keys "$default" or
// "/regex/", each once).
result<std::vector<integration_response_config>> parse_integration_responses(const json::object& o,
                                                                             std::string_view w) {
  std::vector<integration_response_config> out;
  GW_TRY(auto items, optional_array(o, w, "integrationResponses"));
  if (items == nullptr) return out;
  for (const auto& item : *items) {
    if (!item.is_object()) return bad(w, "integrationResponses items must be objects");
    const auto& r = item.get_object();
    if (auto c = check_members(r, w,
                               {"integrationResponseKey", "integrationResponseId", "responseTemplates",
                                "templateSelectionExpression", "responseParameters", "contentHandlingStrategy"});
        !c)
      return c.error();
    integration_response_config ir;
    GW_TRY(ir.key, required_string(r, w, "integrationResponseKey"));
    if (!valid_integration_response_key(ir.key)) {
      return bad(w, fmt::format("integrationResponseKey \"{}\" must be $default or /regex/", ir.key));
    }
    for (const auto& other : out) {
      if (other.key == ir.key) return bad(w, fmt::format("integrationResponseKey {} twice", ir.key));
    }
    GW_TRY(ir.templates, string_map(r, w, "responseTemplates"));
    ir.template_selection = std::string(get_string(r, "templateSelectionExpression").value_or(""));
    ir.statuses = integration_response_statuses(ir.key);
    out.push_back(std::move(ir));
  }
  return out;
}

result<integration_config> parse_integration(const json::object& o, std::string_view where) {
  if (auto r =
          check_members(o, where,
                        {"integrationId", "integrationType", "integrationMethod", "integrationUri", "requestParameters",
                         "timeoutInMillis", "description", "payloadFormatVersion", "connectionType",
                         "passthroughBehavior", "requestTemplates", "templateSelectionExpression",
                         "integrationResponseSelectionExpression", "integrationResponses"});
      !r)
    return r.error();
  integration_config out;
  GW_TRY(out.id, required_string(o, where, "integrationId"));
  const std::string w = fmt::format("{}, integration {}", where, out.id);
  out.type = std::string(get_string(o, "integrationType").value_or("HTTP_PROXY"));
  if (out.type == "MOCK") {
    GW_TRY(out.request_templates, string_map(o, w, "requestTemplates"));
    out.template_selection = std::string(get_string(o, "templateSelectionExpression").value_or(""));
    GW_TRY(out.responses, parse_integration_responses(o, w));
    return out;
  }
  if (out.type != "HTTP_PROXY")
    return bad(w, fmt::format("integrationType {} is not served (only HTTP_PROXY and MOCK)", out.type));
  if (o.contains("integrationResponses")) return bad(w, "integrationResponses belong to MOCK integrations");
  out.method = std::string(get_string(o, "integrationMethod").value_or("POST"));
  GW_TRY(out.uri, required_string(o, w, "integrationUri"));
  if (!out.uri.starts_with("http://") && !out.uri.starts_with("https://")) {
    return bad(w, fmt::format("integrationUri \"{}\" must be an http:// or https:// URL", out.uri));
  }
  GW_TRY(out.request_parameters, string_map(o, w, "requestParameters"));
  for (const auto& [target, source] : out.request_parameters) {
    if (!valid_parameter_target(target)) {
      return bad(w, fmt::format("requestParameters key \"{}\" is not integration.request.header|querystring|path.NAME",
                                target));
    }
    if (!valid_parameter_source(source)) {
      return bad(w, fmt::format("requestParameters value \"{}\" is not context.X, stageVariables.X, "
                                "route.request.(header|querystring|body).X or 'static'",
                                source));
    }
  }
  if (auto it = o.find("timeoutInMillis"); it != o.end()) {
    if (!it->value().is_int64() || it->value().get_int64() < 50 || it->value().get_int64() > 29000) {
      return bad(w, "timeoutInMillis must be an integer from 50 to 29000");
    }
    out.timeout = std::chrono::milliseconds(it->value().get_int64());
  }
  return out;
}

result<route_config> parse_route(const json::object& o, std::string_view where) {
  if (auto r = check_members(o, where,
                             {"routeKey", "target", "routeResponseSelectionExpression", "routeResponses",
                              "authorizationType", "apiKeyRequired", "routeId"});
      !r)
    return r.error();
  route_config out;
  GW_TRY(out.key, required_string(o, where, "routeKey"));
  const std::string w = fmt::format("{}, route {}", where, out.key);
  if (out.key.starts_with('$') && out.key != "$connect" && out.key != "$disconnect" && out.key != "$default") {
    return bad(w, "custom route keys must not start with '$'");
  }
  if (auto target = get_string(o, "target")) {
    if (!target->starts_with("integrations/") || target->size() == 13) {
      return bad(w, "target must be \"integrations/{integrationId}\"");
    }
    out.integration_id = std::string(target->substr(13));
  }
  const bool default_rrse = get_string(o, "routeResponseSelectionExpression").value_or("") == "$default";
  bool default_response = false;
  GW_TRY(auto responses, optional_array(o, w, "routeResponses"));
  if (responses) {
    for (const auto& r : *responses) {
      if (!r.is_object()) return bad(w, "routeResponses items must be objects");
      auto key = get_string(r.get_object(), "routeResponseKey");
      if (!key) return bad(w, "routeResponses items need a routeResponseKey");
      default_response = default_response || *key == "$default";
    }
  }
  out.two_way = default_rrse && default_response;
  return out;
}

result<api_config> parse_api(const json::object& o, std::size_t index) {
  const std::string where0 = fmt::format("apis[{}]", index);
  if (auto r = check_members(o, where0,
                             {"apiId", "name", "routeSelectionExpression", "stages", "routes", "integrations",
                              "protocolType", "description", "apiKeySelectionExpression"});
      !r)
    return r.error();
  api_config api;
  GW_TRY(api.id, required_string(o, where0, "apiId"));
  const std::string where = fmt::format("api {}", api.id);
  api.name = std::string(get_string(o, "name").value_or(api.id));
  const auto rse = get_string(o, "routeSelectionExpression").value_or("$request.body.action");
  auto expr = parse_selection_expression(rse);
  if (!expr) return bad(where, expr.error().message);
  api.route_selection = std::move(*expr);

  GW_TRY(auto stages, optional_array(o, where, "stages"));
  if (!stages || stages->empty()) return bad(where, "\"stages\" must list at least one stage");
  for (const auto& s : *stages) {
    if (!s.is_object()) return bad(where, "stages items must be objects");
    if (auto r =
            check_members(s.get_object(), where, {"stageName", "stageVariables", "description", "accessLogSettings"});
        !r) {
      return r.error();
    }
    stage_config st;
    GW_TRY(st.name, required_string(s.get_object(), where, "stageName"));
    if (st.name == "$default") return bad(where, "the $default stage belongs to HTTP APIs");
    GW_TRY(st.variables, string_map(s.get_object(), where, "stageVariables"));
    if (const auto* log = s.get_object().if_contains("accessLogSettings")) {
      const auto format = log->is_object() ? get_string(log->get_object(), "format") : std::nullopt;
      if (!log->is_object() || (log->get_object().contains("format") && !format)) {
        return bad(where, fmt::format("stage {}: accessLogSettings must be {{\"format\": \"...\"}}", st.name));
      }
      st.access_log_format = std::string(format.value_or(""));
    }
    const std::string name = st.name;
    if (!api.stages.emplace(name, std::move(st)).second) return bad(where, fmt::format("stage {} twice", name));
  }
  GW_TRY(auto integrations, optional_array(o, where, "integrations"));
  if (integrations) {
    for (const auto& i : *integrations) {
      if (!i.is_object()) return bad(where, "integrations items must be objects");
      GW_TRY(auto integ, parse_integration(i.get_object(), where));
      const std::string id = integ.id;
      if (!api.integrations.emplace(id, std::move(integ)).second) {
        return bad(where, fmt::format("integration {} twice", id));
      }
    }
  }
  GW_TRY(auto routes, optional_array(o, where, "routes"));
  if (routes) {
    for (const auto& r : *routes) {
      if (!r.is_object()) return bad(where, "routes items must be objects");
      GW_TRY(auto route, parse_route(r.get_object(), where));
      if (!route.integration_id.empty() && !api.integrations.contains(route.integration_id)) {
        return bad(where, fmt::format("route {} targets unknown integration {}", route.key, route.integration_id));
      }
      const std::string key = route.key;
      if (!api.routes.emplace(key, std::move(route)).second) return bad(where, fmt::format("route {} twice", key));
    }
  }
  return api;
}

}  // namespace

const route_config* api_config::find_route(std::string_view key) const {
  auto it = routes.find(key);
  return it == routes.end() ? nullptr : &it->second;
}

const integration_config* api_config::integration_of(const route_config& r) const {
  auto it = integrations.find(r.integration_id);
  return it == integrations.end() ? nullptr : &it->second;
}

result<api_config> read_api_config(const json::object& api, std::size_t index) {
  return parse_api(api, index);
}

result<gateway_config> parse_gateway_config(std::string_view json_text) {
  auto root = parse_json_object(json_text);
  if (!root) return bad("top level", root.error().message);
  if (auto r = check_members(*root, "top level", {"region", "apis", "keys"}); !r) return r.error();
  gateway_config out;
  out.region = std::string(get_string(*root, "region").value_or("us-east-1"));
  GW_TRY(auto apis, optional_array(*root, "top level", "apis"));
  if (!apis || apis->empty()) return bad("top level", "\"apis\" must list at least one API");
  std::set<std::string> stage_names;
  for (std::size_t i = 0; i < apis->size(); ++i) {
    if (!(*apis)[i].is_object()) return bad("apis", "items must be objects");
    GW_TRY(auto api, parse_api((*apis)[i].get_object(), i));
    for (const auto& [name, st] : api.stages) {
      if (!stage_names.insert(name).second) {
        return bad(fmt::format("api {}", api.id), fmt::format("stage {} is already served by another API", name));
      }
    }
    out.apis.push_back(std::move(api));
  }
  GW_TRY(auto keys, optional_array(*root, "top level", "keys"));
  if (keys) {
    for (const auto& k : *keys) {
      if (!k.is_object()) return bad("keys", "items must be objects");
      const auto& ko = k.get_object();
      if (auto r = check_members(ko, "keys", {"accessKeyId", "secretAccessKey", "sessionToken"}); !r) return r.error();
      sigv4::credentials c;
      GW_TRY(c.access_key_id, required_string(ko, "keys", "accessKeyId"));
      GW_TRY(c.secret_access_key, required_string(ko, "keys", "secretAccessKey"));
      c.session_token = std::string(get_string(ko, "sessionToken").value_or(""));
      out.keys.push_back(std::move(c));
    }
  }
  return out;
}

result<gateway_config> load_gateway_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return bad(file.string(), "cannot be read");
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  auto cfg = parse_gateway_config(text);
  if (!cfg) return failure{cfg.error().code, fmt::format("{} ({})", cfg.error().message, file.string())};
  return cfg;
}

gateway_config default_dev_config(std::string_view backend_base) {
  gateway_config cfg;
  api_config api;
  api.id = "devapi0001";
  api.name = "dev";
  api.route_selection = parse_selection_expression("$request.body.action").value();
  api.stages.emplace("dev", stage_config{"dev", {}});
  for (std::string_view route : {"connect", "disconnect", "default"}) {
    integration_config integ;
    integ.id = fmt::format("{}0000", route.substr(0, 3));
    integ.uri = fmt::format("{}{}", backend_base, route);
    integ.request_parameters.emplace("integration.request.header.connectionId", "context.connectionId");
    const std::string key = fmt::format("${}", route);
    api.routes.emplace(key, route_config{key, integ.id, false});
    api.integrations.emplace(integ.id, std::move(integ));
  }
  // The browser client's heartbeat ({"action":"heartbeat"}), answered by the gateway itself: a
  // one-way MOCK route, so idle clients cost the backend nothing.
  integration_config heartbeat;
  heartbeat.id = "hbt0000";
  heartbeat.type = "MOCK";
  heartbeat.request_templates.emplace("$default", R"({"statusCode": 200})");
  heartbeat.template_selection = "\\$default";
  heartbeat.responses.push_back(integration_response_config{"$default", {}, {}});
  api.routes.emplace("heartbeat", route_config{"heartbeat", heartbeat.id, false});
  api.integrations.emplace(heartbeat.id, std::move(heartbeat));
  cfg.apis.push_back(std::move(api));
  return cfg;
}

}  // namespace apigw::gateway
