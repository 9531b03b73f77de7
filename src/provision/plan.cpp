// The pure planner: the difference between api.json and what the control plane (and the record)
// hold, as the ordered operations `apply` makes. Nothing here does I/O. (Just over 600 lines on
// purpose: the API's, the MOCK routes' and the domain's plans share the diffing helpers at the top,
// and a reader follows one apply's order top to bottom.)
#include "apigw/provision/plan.hpp"

#include "apigw/core/json.hpp"

#include <fmt/format.h>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace apigw::provision {
namespace {

namespace json = boost::json;
using object = json::object;

object string_object(const std::map<std::string, std::string>& m) {
  object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

std::map<std::string, std::string> object_strings(const object& o, std::string_view key) {
  std::map<std::string, std::string> out;
  if (const auto* v = o.if_contains(key); v != nullptr && v->is_object()) {
    for (const auto& [k, x] : v->get_object()) {
      if (x.is_string()) out.emplace(std::string(k), std::string(x.get_string()));
    }
  }
  return out;
}

operation make(op kind, std::string target, std::string route_key, object body, std::string line) {
  operation o;
  o.kind = kind;
  o.target = std::move(target);
  o.route_key = std::move(route_key);
  o.body = std::move(body);
  o.line = std::move(line);
  return o;
}

// integration_changes: the members of `want` that `have` lacks or holds differently (connectionType
// and payloadFormatVersion are AWS's defaults, so a control plane that omits them is not
// "different"). requestParameters goes as map_update_body says: a mapping dropped from the file is
// removed.
object integration_changes(const object& want, const object& have) {
  object changes;
  for (const auto& [k, v] : want) {
    if (k == "connectionType" || k == "payloadFormatVersion") continue;
    if (k == "requestParameters") {
      auto params = map_update_body(object_strings(want, k), object_strings(have, k));
      if (!params.empty()) changes[k] = std::move(params);
      continue;
    }
    const auto* h = have.if_contains(k);
    if (h == nullptr || *h != v) changes[k] = v;
  }
  return changes;
}

bool same_number(const json::value* v, double want) {
  return v != nullptr && v->is_number() && v->to_number<double>() == want;
}

// integration_of: the integration id a route target "integrations/ID" names, "" for other targets.
std::string integration_of(const object& route) {
  const std::string t = member_string(route, "target");
  return t.starts_with("integrations/") ? t.substr(13) : std::string{};
}

// plan_tags: the tags of one resource (the API, the stage) made those of the file, which is the
// whole set: keys no longer in it are removed (UntagResource; AWS's own "aws:" tags cannot be and
// are left alone), missing or different ones set (TagResource).
void plan_tags(std::vector<operation>& ops, const std::map<std::string, std::string>& want, const std::string& what,
               const std::string& arn, const std::map<std::string, std::string>& have) {
  std::map<std::string, std::string> missing;
  for (const auto& [k, v] : want) {
    if (auto it = have.find(k); it == have.end() || it->second != v) missing.emplace(k, v);
  }
  std::vector<std::string> dropped;
  for (const auto& [k, v] : have) {
    if (!want.contains(k) && !k.starts_with("aws:")) dropped.push_back(k);
  }
  if (!dropped.empty()) {
    json::array keys;
    for (const auto& k : dropped) keys.push_back(json::value(k));
    auto o = make(op::untag_resource, arn, {}, {}, fmt::format("- {} tags: {}", what, json::serialize(keys)));
    o.tag_keys = std::move(dropped);
    ops.push_back(std::move(o));
  }
  if (!missing.empty()) {
    auto body = string_object(missing);
    auto line = fmt::format("~ {} tags: {}", what, json::serialize(body));
    ops.push_back(make(op::tag_resource, arn, {}, std::move(body), std::move(line)));
  }
}

// wanted_route_settings: the stage's defaultRouteSettings as the file wants them: `have` (the
// live ones; AWS's defaults for a new stage) with the file's logging level, data trace and
// detailed metrics, and its throttling limits when it sets them.
object wanted_route_settings(const api_config& c, const object* have) {
  object s = have != nullptr ? *have : object{};
  s["dataTraceEnabled"] = c.data_trace;
  s["detailedMetricsEnabled"] = c.detailed_metrics;
  s["loggingLevel"] = c.logging_level;
  if (c.throttling_burst_limit) s["throttlingBurstLimit"] = *c.throttling_burst_limit;
  if (c.throttling_rate_limit) s["throttlingRateLimit"] = *c.throttling_rate_limit;
  return s;
}

bool member_bool(const object* o, std::string_view key) {
  const auto* v = o != nullptr ? o->if_contains(key) : nullptr;
  return v != nullptr && v->is_bool() && v->get_bool();
}

// route_settings_differ: whether the live defaultRouteSettings (`have`, null when absent) differ
// from the file's. Absent members are AWS's defaults (false, "OFF"); throttling counts only when
// the file sets it.
bool route_settings_differ(const api_config& c, const object* have) {
  const std::string level = have != nullptr ? member_string(*have, "loggingLevel") : std::string{};
  if ((level.empty() ? std::string("OFF") : level) != c.logging_level) return true;
  if (member_bool(have, "dataTraceEnabled") != c.data_trace) return true;
  if (member_bool(have, "detailedMetricsEnabled") != c.detailed_metrics) return true;
  const auto number = [&](std::string_view key) { return have != nullptr ? have->if_contains(key) : nullptr; };
  if (c.throttling_burst_limit &&
      !same_number(number("throttlingBurstLimit"), static_cast<double>(*c.throttling_burst_limit))) {
    return true;
  }
  return c.throttling_rate_limit && !same_number(number("throttlingRateLimit"), *c.throttling_rate_limit);
}

object access_log_body(const access_log_config& a) {
  return object{{"destinationArn", a.destination_arn}, {"format", a.format}};
}

// responses_of: the live responses listed under `id` (none when not listed).
const std::vector<object>& responses_of(const std::map<std::string, std::vector<object>>& by_id,
                                        const std::string& id) {
  static const std::vector<object> none;
  auto it = by_id.find(id);
  return it == by_id.end() ? none : it->second;
}

// plan_integration_response: a MOCK route's integration (`integration_id`, k_new_id when created
// in this plan) gets exactly the file's $default integration response: created when missing, its
// response templates updated when they differ, any other key deleted (it would answer first).
// Returns whether anything changed.
bool plan_integration_response(std::vector<operation>& ops, const desired_route& d, const std::string& integration_id,
                               const live_api& live) {
  const object& want = *d.integration_response;
  const std::string key = member_string(want, "integrationResponseKey");
  const object* have = nullptr;
  bool changed = false;
  if (integration_id != k_new_id) {
    for (const auto& ir : responses_of(live.integration_responses, integration_id)) {
      const std::string ir_key = member_string(ir, "integrationResponseKey");
      if (ir_key == key) {
        have = &ir;
        continue;
      }
      auto o = make(
          op::delete_integration_response, integration_id, d.key, {},
          fmt::format("- integration response {} ({}) {}", member_string(ir, "integrationResponseId"), d.key, ir_key));
      o.child = member_string(ir, "integrationResponseId");
      ops.push_back(std::move(o));
      changed = true;
    }
  }
  if (have == nullptr) {
    ops.push_back(make(op::create_integration_response, integration_id, d.key, want,
                       fmt::format("+ integration response {} {}", d.key, key)));
    return true;
  }
  auto templates =
      map_update_body(object_strings(want, "responseTemplates"), object_strings(*have, "responseTemplates"));
  if (!templates.empty()) {
    object body{{"responseTemplates", std::move(templates)}};
    const std::string id = member_string(*have, "integrationResponseId");
    auto line = fmt::format("~ integration response {} ({}): {}", id, d.key, json::serialize(body));
    auto o = make(op::update_integration_response, integration_id, d.key, std::move(body), std::move(line));
    o.child = id;
    ops.push_back(std::move(o));
    changed = true;
  }
  return changed;
}

// plan_route_response: a two-way MOCK route gets a $default route response when it has none; a
// one-way one loses the route responses it has. Returns whether anything changed.
bool plan_route_response(std::vector<operation>& ops, const desired_route& d, const std::string& route_id,
                         const live_api& live) {
  static const std::vector<object> none;
  const auto& have = route_id == k_new_id ? none : responses_of(live.route_responses, route_id);
  bool changed = false;
  if (d.two_way) {
    const bool has_default = std::any_of(
        have.begin(), have.end(), [](const object& rr) { return member_string(rr, "routeResponseKey") == "$default"; });
    if (!has_default) {
      ops.push_back(make(op::create_route_response, route_id, d.key, object{{"routeResponseKey", "$default"}},
                         fmt::format("+ route response {} $default", d.key)));
      changed = true;
    }
    return changed;
  }
  for (const auto& rr : have) {
    const std::string id = member_string(rr, "routeResponseId");
    auto o = make(op::delete_route_response, route_id, d.key, {},
                  fmt::format("- route response {} ({}) {}", id, d.key, member_string(rr, "routeResponseKey")));
    o.child = id;
    ops.push_back(std::move(o));
    changed = true;
  }
  return changed;
}

// plan_routes: integrations, routes and their record rows. Returns whether anything the
// deployment holds changed (or a recorded route is not deployed).
bool plan_routes(std::vector<operation>& ops, const api_config& c, const live_api& live) {
  std::map<std::string, object> integrations;  // by id
  std::map<std::string, object> routes;        // by route key
  for (const auto& i : live.integrations) integrations.emplace(member_string(i, "integrationId"), i);
  for (const auto& r : live.routes) routes.emplace(member_string(r, "routeKey"), r);
  std::map<std::string, recorded_route> recorded;
  for (const auto& r : live.record.routes) recorded.emplace(r.route_key, r);

  bool stale = false;
  std::set<std::string> wanted_keys;
  std::set<std::string> used_integrations;
  for (const auto& [key, r] : routes) {
    if (auto id = integration_of(r); !id.empty()) used_integrations.insert(id);
  }
  for (const auto& d : desired_routes(c)) {
    wanted_keys.insert(d.key);
    // The record row's URL; MOCK routes have none.
    const std::string url = d.is_mock() ? std::string("MOCK") : member_string(d.integration, "integrationUri");
    bool changed = false;
    std::string integration_id;
    auto route = routes.find(d.key);
    if (route != routes.end()) {
      // An integration of another type (a route made MOCK, or no longer MOCK) is replaced, not
      // changed in place.
      if (auto id = integration_of(route->second); integrations.contains(id)) {
        if (member_string(integrations.at(id), "integrationType") == member_string(d.integration, "integrationType")) {
          integration_id = id;
        } else if (std::none_of(routes.begin(), routes.end(), [&](const auto& other) {
                     return other.first != d.key && integration_of(other.second) == id;
                   })) {
          used_integrations.erase(id);  // deleted once the route targets its replacement
        }
      }
    }
    if (!integration_id.empty()) {
      auto diff = integration_changes(d.integration, integrations.at(integration_id));
      if (!diff.empty()) {
        auto line = fmt::format("~ integration {} ({}): {}", integration_id, d.key, json::serialize(diff));
        ops.push_back(make(op::update_integration, integration_id, d.key, std::move(diff), std::move(line)));
        changed = true;
      }
    } else {
      // An integration no route uses, left by a run that failed before its route was made, is
      // reused when it already calls the right URL.
      for (const auto& [id, i] : integrations) {
        if (!used_integrations.contains(id) && integration_changes(d.integration, i).empty()) {
          integration_id = id;
          break;
        }
      }
      if (integration_id.empty()) {
        integration_id = std::string(k_new_id);
        ops.push_back(
            make(op::create_integration, {}, d.key, d.integration, fmt::format("+ integration {} -> {}", d.key, url)));
      }
      used_integrations.insert(integration_id);
      changed = true;
    }
    if (d.is_mock() && plan_integration_response(ops, d, integration_id, live)) changed = true;
    const std::string target = "integrations/" + integration_id;
    std::string route_id(k_new_id);
    if (route == routes.end()) {
      object body{{"routeKey", d.key}, {"target", target}, {"authorizationType", "NONE"}, {"apiKeyRequired", false}};
      if (d.two_way) body["routeResponseSelectionExpression"] = "$default";
      ops.push_back(make(op::create_route, {}, d.key, std::move(body), fmt::format("+ route {}", d.key)));
      changed = true;
    } else {
      route_id = member_string(route->second, "routeId");
      object body;
      if (member_string(route->second, "target") != target) body["target"] = target;
      // A one-way route keeps its expression: without route responses it sends nothing back.
      if (d.two_way && member_string(route->second, "routeResponseSelectionExpression") != "$default") {
        body["routeResponseSelectionExpression"] = "$default";
      }
      if (!body.empty()) {
        auto line = body.size() == 1 && body.contains("target")
                        ? fmt::format("~ route {} -> {}", d.key, target)
                        : fmt::format("~ route {}: {}", d.key, json::serialize(body));
        ops.push_back(make(op::update_route, route_id, d.key, std::move(body), std::move(line)));
        changed = true;
      }
    }
    if (d.is_mock() && plan_route_response(ops, d, route_id, live)) changed = true;
    auto rec = recorded.find(d.key);
    const bool record_differs =
        rec == recorded.end() || rec->second.integration_url != url || rec->second.name != d.name;
    if (changed || record_differs) {
      stale = true;
      auto o = make(op::record_route, {}, d.key, {}, {});
      o.record = recorded_route{d.key, d.name, url, false};
      ops.push_back(std::move(o));
    } else if (!rec->second.deployed) {
      stale = true;
    }
  }
  for (const auto& [key, r] : routes) {
    if (wanted_keys.contains(key)) continue;
    ops.push_back(make(op::delete_route, member_string(r, "routeId"), key, {}, fmt::format("- route {}", key)));
    ops.push_back(make(op::forget_route, {}, key, {}, {}));
    stale = true;
    if (auto id = integration_of(r); !id.empty()) used_integrations.erase(id);
  }
  for (const auto& [key, rec] : recorded) {
    if (!wanted_keys.contains(key) && !routes.contains(key)) ops.push_back(make(op::forget_route, {}, key, {}, {}));
  }
  for (const auto& [id, i] : integrations) {
    if (used_integrations.contains(id)) continue;
    const std::string uri = member_string(i, "integrationUri");
    ops.push_back(
        make(op::delete_integration, id, {}, {},
             fmt::format("- integration {} ({})", id, uri.empty() ? member_string(i, "integrationType") : uri)));
  }
  return stale;
}

// plan_stage: CreateStage, or UpdateStage and the stage's tags. Returns the deployment the stage
// serves ("" when none or new) and whether the stage is new.
std::pair<std::string, bool> plan_stage(std::vector<operation>& ops, const api_config& c, const live_api& live,
                                        const std::string& api_id, std::string_view region) {
  const object* stage = nullptr;
  for (const auto& s : live.stages) {
    if (member_string(s, "stageName") == c.stage) stage = &s;
  }
  if (stage == nullptr) {
    object body{{"stageName", c.stage},
                {"stageVariables", string_object(c.stage_variables)},
                {"defaultRouteSettings", wanted_route_settings(c, nullptr)}};
    if (c.access_log) body["accessLogSettings"] = access_log_body(*c.access_log);
    if (!c.stage_description.empty()) body["description"] = c.stage_description;
    if (!c.tags.empty()) body["tags"] = string_object(c.tags);
    ops.push_back(make(op::create_stage, c.stage, {}, std::move(body), fmt::format("+ stage {}", c.stage)));
    return {std::string{}, true};
  }
  object changes;
  if (auto vars = map_update_body(c.stage_variables, object_strings(*stage, "stageVariables")); !vars.empty()) {
    changes["stageVariables"] = std::move(vars);
  }
  if (member_string(*stage, "description") != c.stage_description) changes["description"] = c.stage_description;
  const auto* drs_value = stage->if_contains("defaultRouteSettings");
  const object* drs = drs_value != nullptr && drs_value->is_object() ? &drs_value->get_object() : nullptr;
  if (route_settings_differ(c, drs)) changes["defaultRouteSettings"] = wanted_route_settings(c, drs);
  const auto* log_value = stage->if_contains("accessLogSettings");
  const object* log = log_value != nullptr && log_value->is_object() ? &log_value->get_object() : nullptr;
  const bool has_log = log != nullptr && !member_string(*log, "destinationArn").empty();
  if (c.access_log && (!has_log || member_string(*log, "destinationArn") != c.access_log->destination_arn ||
                       member_string(*log, "format") != c.access_log->format)) {
    changes["accessLogSettings"] = access_log_body(*c.access_log);
  }
  if (!changes.empty()) {
    auto line = fmt::format("~ stage {}: {}", c.stage, json::serialize(changes));
    ops.push_back(make(op::update_stage, c.stage, {}, std::move(changes), std::move(line)));
  }
  if (!c.access_log && has_log) {
    ops.push_back(make(op::delete_access_log_settings, c.stage, {}, {},
                       fmt::format("- stage {} access log ({})", c.stage, member_string(*log, "destinationArn"))));
  }
  // The stage carries the file's tags too (given at CreateStage), kept in step like the API's.
  plan_tags(ops, c.tags, fmt::format("stage {}", c.stage),
            fmt::format("arn:aws:apigateway:{}::/apis/{}/stages/{}", region, api_id, c.stage),
            object_strings(*stage, "tags"));
  return {member_string(*stage, "deploymentId"), false};
}

// first_configuration: the domain's first configuration (empty when it has none).
object first_configuration(const object& domain) {
  const auto* c = domain.if_contains("domainNameConfigurations");
  if (c == nullptr || !c->is_array() || c->get_array().empty() || !c->get_array()[0].is_object()) return {};
  return c->get_array()[0].get_object();
}

}  // namespace

std::string_view op_name(op kind) {
  switch (kind) {
    case op::create_api:
      return "CreateApi";
    case op::update_api:
      return "UpdateApi";
    case op::untag_resource:
      return "UntagResource";
    case op::tag_resource:
      return "TagResource";
    case op::create_integration:
      return "CreateIntegration";
    case op::update_integration:
      return "UpdateIntegration";
    case op::delete_integration:
      return "DeleteIntegration";
    case op::create_route:
      return "CreateRoute";
    case op::update_route:
      return "UpdateRoute";
    case op::delete_route:
      return "DeleteRoute";
    case op::create_integration_response:
      return "CreateIntegrationResponse";
    case op::update_integration_response:
      return "UpdateIntegrationResponse";
    case op::delete_integration_response:
      return "DeleteIntegrationResponse";
    case op::create_route_response:
      return "CreateRouteResponse";
    case op::delete_route_response:
      return "DeleteRouteResponse";
    case op::record_route:
      return "record route";
    case op::forget_route:
      return "forget route";
    case op::create_stage:
      return "CreateStage";
    case op::update_stage:
      return "UpdateStage";
    case op::delete_access_log_settings:
      return "DeleteAccessLogSettings";
    case op::create_deployment:
      return "CreateDeployment";
    case op::delete_stage:
      return "DeleteStage";
    case op::create_domain_name:
      return "CreateDomainName";
    case op::update_domain_name:
      return "UpdateDomainName";
    case op::create_api_mapping:
      return "CreateApiMapping";
    case op::update_api_mapping:
      return "UpdateApiMapping";
  }
  return "?";
}

int changes(const std::vector<operation>& ops) {
  int n = 0;
  for (const auto& o : ops) n += o.line.empty() ? 0 : 1;
  return n;
}

std::string member_string(const object& o, std::string_view key) {
  return std::string(get_string(o, key).value_or(""));
}

object map_update_body(const std::map<std::string, std::string>& want, std::map<std::string, std::string> have) {
  std::erase_if(have, [](const auto& kv) { return kv.second.empty(); });
  if (have == want) return {};
  object body = string_object(want);
  for (const auto& [k, v] : have) {
    if (!want.contains(k)) body[k] = "";
  }
  return body;
}

result<std::optional<object>> pick_api(const api_config& c, const std::vector<object>& apis) {
  std::vector<const object*> named;
  for (const auto& a : apis) {
    if (member_string(a, "name") == c.name && member_string(a, "protocolType") == "WEBSOCKET") named.push_back(&a);
  }
  if (named.size() > 1) {
    return failure{core::error::invalid_argument,
                   fmt::format("{} WebSocket APIs are named \"{}\"; record the one to manage by deleting the "
                               "others or renaming them",
                               named.size(), c.name)};
  }
  if (named.empty()) return std::optional<object>{};
  return std::optional<object>{*named.front()};
}

std::vector<operation> plan_api(const api_config& c, const live_api& live, std::string_view region) {
  std::vector<operation> ops;
  std::string api_id;
  if (!live.api) {
    object body{
        {"name", c.name}, {"protocolType", "WEBSOCKET"}, {"routeSelectionExpression", c.route_selection_expression}};
    if (!c.description.empty()) body["description"] = c.description;
    if (!c.tags.empty()) body["tags"] = string_object(c.tags);
    ops.push_back(make(op::create_api, {}, {}, std::move(body), fmt::format("+ api {}", c.name)));
  } else {
    const object& api = *live.api;
    api_id = member_string(api, "apiId");
    object diff;
    if (member_string(api, "routeSelectionExpression") != c.route_selection_expression) {
      diff["routeSelectionExpression"] = c.route_selection_expression;
    }
    if (member_string(api, "description") != c.description) diff["description"] = c.description;
    if (member_string(api, "name") != c.name) diff["name"] = c.name;
    if (!diff.empty()) {
      auto line = fmt::format("~ api {}: {}", c.name, json::serialize(diff));
      ops.push_back(make(op::update_api, api_id, {}, std::move(diff), std::move(line)));
    }
    plan_tags(ops, c.tags, fmt::format("api {}", c.name),
              fmt::format("arn:aws:apigateway:{}::/apis/{}", region, api_id), object_strings(api, "tags"));
  }
  bool stale = plan_routes(ops, c, live);
  auto [serving, stage_new] = plan_stage(ops, c, live, api_id, region);
  stale = stale || stage_new;
  // The recorded deployment counts only when it was recorded for this API and stage.
  const bool same_record = !api_id.empty() && live.record.api_id == api_id && live.record.stage == c.stage;
  const std::string recorded = same_record ? live.record.deployment_id : std::string{};
  const bool never_deployed = serving.empty() || recorded != serving;
  if (stale || never_deployed) {
    object body{{"stageName", c.stage}};
    if (!c.stage_description.empty()) body["description"] = c.stage_description;
    ops.push_back(
        make(op::create_deployment, c.stage, {}, std::move(body), fmt::format("+ deployment of stage {}", c.stage)));
  }
  // Stages the file no longer names go last, once the stage that replaces them serves.
  for (const auto& s : live.stages) {
    const std::string name = member_string(s, "stageName");
    if (name.empty() || name == c.stage ||
        std::find(c.keep_stages.begin(), c.keep_stages.end(), name) != c.keep_stages.end()) {
      continue;
    }
    ops.push_back(make(op::delete_stage, name, {}, {},
                       fmt::format("- stage {} (not in the file; list it in keep_stages to keep it)", name)));
  }
  return ops;
}

std::string domain_target(const object& domain) {
  return member_string(first_configuration(domain), "apiGatewayDomainName");
}

std::string domain_certificate(const object& domain) {
  return member_string(first_configuration(domain), "certificateArn");
}

std::vector<operation> plan_domain(const domain_config& d, const live_domain& live, std::string_view api_id,
                                   std::string_view stage) {
  std::vector<operation> ops;
  if (!live.domain) {
    object cfg;
    cfg["certificateArn"] = d.certificate_arn;
    cfg["endpointType"] = d.endpoint_type.empty() ? std::string("REGIONAL") : d.endpoint_type;
    cfg["securityPolicy"] = d.security_policy.empty() ? std::string("TLS_1_2") : d.security_policy;
    if (!d.hosted_zone_id.empty()) cfg["hostedZoneId"] = d.hosted_zone_id;
    json::array configs;
    configs.push_back(std::move(cfg));
    object body;
    body["domainName"] = d.name;
    body["domainNameConfigurations"] = std::move(configs);
    ops.push_back(make(op::create_domain_name, d.name, {}, std::move(body),
                       fmt::format("+ domain name {} (certificate {})", d.name, d.certificate_arn)));
  } else {
    // What the first configuration holds differently from the file (endpoint type and security
    // policy only when configured), fixed by UpdateDomainName with the whole configuration list,
    // the first one changed: AWS keeps the regional target name, so the DNS record stays valid.
    const object have = first_configuration(*live.domain);
    std::string what;
    object want = have;
    const auto check = [&](std::string_view member, std::string_view label, const std::string& value) {
      if (value.empty() || member_string(have, member) == value) return;
      what += fmt::format("{}{} {} -> {}", what.empty() ? "" : ", ", label, member_string(have, member), value);
      want[member] = value;
    };
    check("certificateArn", "certificate", d.certificate_arn);
    check("endpointType", "endpoint type", d.endpoint_type);
    check("securityPolicy", "security policy", d.security_policy);
    if (!what.empty()) {
      // Only what UpdateDomainName accepts in a configuration goes back (not the read-only members).
      object first;
      for (std::string_view k : {"certificateArn", "certificateName", "endpointType", "securityPolicy", "ipAddressType",
                                 "ownershipVerificationCertificateArn"}) {
        if (const auto* v = want.if_contains(k)) first[k] = *v;
      }
      json::array configs;
      configs.push_back(std::move(first));
      if (const auto* all = live.domain->if_contains("domainNameConfigurations"); all != nullptr && all->is_array()) {
        for (std::size_t i = 1; i < all->get_array().size(); ++i) configs.push_back(all->get_array()[i]);
      }
      object body;
      body["domainNameConfigurations"] = std::move(configs);
      ops.push_back(
          make(op::update_domain_name, d.name, {}, std::move(body), fmt::format("~ domain name {}: {}", d.name, what)));
    }
  }
  const object* at_path = nullptr;
  for (const auto& m : live.mappings) {
    if (member_string(m, "apiMappingKey") == d.base_path) at_path = &m;
  }
  if (at_path == nullptr) {
    object body{{"apiId", api_id}, {"stage", stage}};
    if (!d.base_path.empty()) body["apiMappingKey"] = d.base_path;
    ops.push_back(make(op::create_api_mapping, d.name, {}, std::move(body),
                       fmt::format("+ API mapping {}/{} -> API {} stage {}", d.name, d.base_path, api_id, stage)));
  } else if (member_string(*at_path, "apiId") != api_id || member_string(*at_path, "stage") != stage) {
    object body;
    body["apiId"] = api_id;
    body["stage"] = stage;
    auto o = make(op::update_api_mapping, member_string(*at_path, "apiMappingId"), {}, std::move(body),
                  fmt::format("~ API mapping {}/{} -> API {} stage {} (was {} {})", d.name, d.base_path, api_id, stage,
                              member_string(*at_path, "apiId"), member_string(*at_path, "stage")));
    ops.push_back(std::move(o));
  }
  return ops;
}

}  // namespace apigw::provision
