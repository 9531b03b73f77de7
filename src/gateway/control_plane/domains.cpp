// Control plane, custom domain names and their API mappings: Create/Get/Update/Delete DomainName
// and ApiMapping, GetDomainNames, GetApiMappings. EDGE endpoints and TLS_1_0 are refused, as AWS
// refuses them for WebSocket APIs. Recorded and echoed only: the local gateway does
// not serve traffic by host name (clients keep using ws://HOST:PORT/{stage}).
#include "gateway/control_plane/errors.hpp"
#include "gateway/control_plane/router.hpp"

namespace apigw::gateway::detail::cp {
namespace {

// new_domain_configuration: a configuration's members AWS fills in (before those given apply).
json::object new_domain_configuration(std::string_view region) {
  return json::object{
      {"apiGatewayDomainName", fmt::format("d-{}.execute-api.{}.amazonaws.com", new_resource_id(10), region)},
      {"domainNameStatus", "AVAILABLE"},
      {"endpointType", "REGIONAL"},
      {"hostedZoneId", "Z2FDTNDATAQYW2"},
      {"securityPolicy", "TLS_1_2"}};
}

// configuration_problem: why AWS would refuse a domain name configuration for a WebSocket API
// (every API of the local control plane is one): only REGIONAL endpoints and TLS_1_2 are supported
// (AWS's documentation); the message text is ours (AWS's exact wording is unconfirmed). Nullopt
// when the configuration is acceptable.
std::optional<std::string> configuration_problem(const json::object& c) {
  for (std::string_view key : {"endpointType", "securityPolicy"}) {
    if (c.contains(key) && !get_string(c, key)) return fmt::format("{} must be a string", key);
  }
  if (auto v = get_string(c, "endpointType"); v && *v != "REGIONAL") {
    if (*v == "EDGE") {
      return std::string(
          "Endpoint type EDGE is not supported for WebSocket APIs; custom domain names of WebSocket APIs must be "
          "REGIONAL");
    }
    return fmt::format("Invalid endpointType {}", *v);
  }
  if (auto v = get_string(c, "securityPolicy"); v && *v != "TLS_1_2") {
    if (*v == "TLS_1_0") {
      return std::string("Security policy TLS_1_0 is not supported for WebSocket APIs; use TLS_1_2");
    }
    return fmt::format("Invalid securityPolicy {}", *v);
  }
  return std::nullopt;
}

domain_model* find_domain(model& s, const std::string& name) {
  auto it = s.domains.find(name);
  return it == s.domains.end() ? nullptr : &it->second;
}

answer list_domains(model& s, const request&) {
  json::array items;
  for (const auto& [name, d] : s.domains) items.push_back(d.domain);
  return json_answer(200, json::object{{"items", std::move(items)}}, false);
}

answer create_domain(model& s, const request& r) {
  const auto& body = r.body;
  const auto name = get_string(body, "domainName");
  if (!name || name->empty()) return bad_request("domainName is required");
  if (s.domains.contains(std::string(*name))) return conflict(fmt::format("Domain name {} already exists", *name));
  json::array configs;
  if (auto it = body.find("domainNameConfigurations"); it != body.end() && it->value().is_array()) {
    for (const auto& c : it->value().get_array()) {
      if (!c.is_object()) return bad_request("domainNameConfigurations items must be objects");
      if (auto bad = configuration_problem(c.get_object())) return bad_request(*bad);
      json::object out = new_domain_configuration(s.region);
      copy_members(c.get_object(), out, {"certificateArn", "endpointType", "securityPolicy", "ipAddressType"});
      configs.push_back(std::move(out));
    }
  }
  if (configs.empty()) return bad_request("domainNameConfigurations needs a certificateArn");
  json::object d{{"apiMappingSelectionExpression", "$request.basepath"},
                 {"domainName", *name},
                 {"domainNameConfigurations", std::move(configs)}};
  copy_members(body, d, {"tags"});
  s.domains[std::string(*name)].domain = d;
  return json_answer(201, d, false);
}

answer get_domain(model& s, const request& r) {
  auto* d = find_domain(s, r.params[0]);
  if (d == nullptr) return not_found("domain name", r.params[0]);
  return json_answer(200, d->domain, false);
}

answer delete_domain(model& s, const request& r) {
  if (s.domains.erase(r.params[0]) == 0) return not_found("domain name", r.params[0]);
  return no_content(false);
}

// update_domain: each given configuration updates the one at its position (the regional target
// name and hosted zone stay, as when AWS swaps a certificate); members as in Create.
answer update_domain(model& s, const request& r) {
  auto* d = find_domain(s, r.params[0]);
  if (d == nullptr) return not_found("domain name", r.params[0]);
  const auto* given = r.body.if_contains("domainNameConfigurations");
  if (given == nullptr) return json_answer(200, d->domain, false);
  if (!given->is_array() || given->get_array().empty()) {
    return bad_request("domainNameConfigurations must be a non-empty list");
  }
  json::array have;
  if (const auto* h = d->domain.if_contains("domainNameConfigurations"); h != nullptr && h->is_array()) {
    have = h->get_array();
  }
  json::array out;
  for (std::size_t i = 0; i < given->get_array().size(); ++i) {
    const auto& c = given->get_array()[i];
    if (!c.is_object()) return bad_request("domainNameConfigurations items must be objects");
    if (auto bad = configuration_problem(c.get_object())) return bad_request(*bad);
    json::object o = i < have.size() && have[i].is_object() ? have[i].get_object() : new_domain_configuration(s.region);
    copy_members(c.get_object(), o, {"certificateArn", "endpointType", "securityPolicy", "ipAddressType"});
    if (string_member(o, "certificateArn").empty()) return bad_request("certificateArn is required");
    out.push_back(std::move(o));
  }
  d->domain["domainNameConfigurations"] = std::move(out);
  return json_answer(200, d->domain, false);
}

answer refuse_domains_method(model&, const request&) {
  return bad_request("unsupported method");
}

// refuse_domain_method: other methods on a domain name, and on its list of mappings.
answer refuse_domain_method(model& s, const request& r) {
  if (find_domain(s, r.params[0]) == nullptr) return not_found("domain name", r.params[0]);
  return bad_request("unsupported method");
}

answer refuse_domain_request(model& s, const request& r) {
  if (find_domain(s, r.params[0]) == nullptr) return not_found("domain name", r.params[0]);
  return bad_request("unsupported domainnames request");
}

// -- API mappings -------------------------------------------------------------------------------

// check_mapping: the mapping `m` of domain `d` names an existing API and stage, and its key is
// not another mapping's.
std::optional<answer> check_mapping(const model& s, const domain_model& d, const json::object& m) {
  const std::string api_id = string_member(m, "apiId");
  auto api = s.apis.find(api_id);
  if (api == s.apis.end()) return not_found("API", api_id);
  if (!api->second.stages.contains(string_member(m, "stage"))) return not_found("Stage", string_member(m, "stage"));
  for (const auto& [id, other] : d.mappings) {
    if (id != string_member(m, "apiMappingId") &&
        string_member(other, "apiMappingKey") == string_member(m, "apiMappingKey")) {
      return conflict(fmt::format("API mapping key \"{}\" already exists", string_member(m, "apiMappingKey")));
    }
  }
  return std::nullopt;
}

answer list_mappings(model& s, const request& r) {
  auto* d = find_domain(s, r.params[0]);
  if (d == nullptr) return not_found("domain name", r.params[0]);
  return list_answer(d->mappings);
}

answer create_mapping(model& s, const request& r) {
  auto* d = find_domain(s, r.params[0]);
  if (d == nullptr) return not_found("domain name", r.params[0]);
  if (!get_string(r.body, "apiId") || !get_string(r.body, "stage")) return bad_request("apiId and stage are required");
  json::object m{{"apiMappingId", new_resource_id(6)}, {"apiMappingKey", ""}};
  copy_members(r.body, m, {"apiId", "apiMappingKey", "stage"});
  if (auto refused = check_mapping(s, *d, m)) return std::move(*refused);
  d->mappings.emplace(string_member(m, "apiMappingId"), m);
  return json_answer(201, m, false);
}

// with_mapping: `then(domain, mapping)` for the domain name and mapping the path names, or their
// NotFoundException.
template <class Then>
answer with_mapping(model& s, const request& r, Then then) {
  auto* d = find_domain(s, r.params[0]);
  if (d == nullptr) return not_found("domain name", r.params[0]);
  auto it = d->mappings.find(r.params[1]);
  if (it == d->mappings.end()) return not_found("API mapping", r.params[1]);
  return then(*d, it);
}

answer get_mapping(model& s, const request& r) {
  return with_mapping(s, r, [](domain_model&, auto it) { return json_answer(200, it->second, false); });
}

answer delete_mapping(model& s, const request& r) {
  return with_mapping(s, r, [](domain_model& d, auto it) {
    d.mappings.erase(it);
    return no_content(false);
  });
}

answer update_mapping(model& s, const request& r) {
  return with_mapping(s, r, [&](domain_model& d, auto it) {
    json::object m = it->second;
    copy_members(r.body, m, {"apiId", "apiMappingKey", "stage"});
    if (auto refused = check_mapping(s, d, m)) return std::move(*refused);
    it->second = std::move(m);
    return json_answer(200, it->second, false);
  });
}

answer refuse_mapping_method(model& s, const request& r) {
  return with_mapping(s, r, [](domain_model&, auto) { return bad_request("unsupported method"); });
}

}  // namespace

std::vector<route> domain_routes() {
  // The mapping entries end in "**": segments after the mapping id have always been ignored.
  return {
      {"GET", "/domainnames", list_domains},
      {"POST", "/domainnames", create_domain},
      {"*", "/domainnames", refuse_domains_method},
      {"GET", "/domainnames/{domainName}", get_domain},
      {"DELETE", "/domainnames/{domainName}", delete_domain},
      {"PATCH", "/domainnames/{domainName}", update_domain},
      {"*", "/domainnames/{domainName}", refuse_domain_method},
      {"GET", "/domainnames/{domainName}/apimappings", list_mappings},
      {"POST", "/domainnames/{domainName}/apimappings", create_mapping},
      {"*", "/domainnames/{domainName}/apimappings", refuse_domain_method},
      {"GET", "/domainnames/{domainName}/apimappings/{apiMappingId}/**", get_mapping},
      {"DELETE", "/domainnames/{domainName}/apimappings/{apiMappingId}/**", delete_mapping},
      {"PATCH", "/domainnames/{domainName}/apimappings/{apiMappingId}/**", update_mapping},
      {"*", "/domainnames/{domainName}/apimappings/{apiMappingId}/**", refuse_mapping_method},
      {"*", "/domainnames/{domainName}/**", refuse_domain_request},
  };
}

}  // namespace apigw::gateway::detail::cp
