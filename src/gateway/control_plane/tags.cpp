// Control plane, tags: TagResource (POST, 201), UntagResource (DELETE ?tagKeys=a&tagKeys=b, 204)
// and GetTags (GET) on an API's or a stage's ARN:
// arn:aws:apigateway:{region}::/apis/{apiId}[/stages/{stageName}] (one path segment, encoded).
#include "gateway/control_plane/errors.hpp"
#include "gateway/control_plane/router.hpp"

#include "apigw/core/text.hpp"

namespace apigw::gateway::detail::cp {
namespace {

// tagged_resource: the wire object of the API or stage `arn` names, or nullptr.
json::object* tagged_resource(model& s, const std::string& arn) {
  constexpr std::string_view marker = "::/apis/";
  const auto at = arn.find(marker);
  if (at == std::string::npos) return nullptr;
  std::string api_id = arn.substr(at + marker.size());
  std::string stage_name;
  if (const auto slash = api_id.find('/'); slash != std::string::npos) {
    constexpr std::string_view stages = "/stages/";
    if (api_id.compare(slash, stages.size(), stages) != 0) return nullptr;
    stage_name = api_id.substr(slash + stages.size());
    api_id.resize(slash);
  }
  auto* api = find_api(s, api_id);
  if (api == nullptr) return nullptr;
  if (stage_name.empty()) return &api->api;
  auto st = api->stages.find(stage_name);
  return st == api->stages.end() ? nullptr : &st->second;
}

// tags_of: a copy of the resource's tags ({} when it has none).
json::object tags_of(const json::object& resource) {
  if (const auto* t = resource.if_contains("tags"); t != nullptr && t->is_object()) return t->get_object();
  return {};
}

// tag_keys: the tagKeys of an UntagResource query (a list: the parameter repeated), decoded;
// nullopt when one is malformed.
std::optional<std::vector<std::string>> tag_keys(std::string_view query) {
  std::vector<std::string> keys;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == "tagKeys" && eq != std::string_view::npos) {
      auto key = percent_decode(pair.substr(eq + 1));
      if (!key) return std::nullopt;
      keys.push_back(std::move(*key));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return keys;
}

answer get_tags(model& s, const request& r) {
  auto* resource = tagged_resource(s, r.params[0]);
  if (resource == nullptr) return not_found("resource", r.params[0]);
  return json_answer(200, json::object{{"tags", tags_of(*resource)}}, false);
}

answer untag_resource(model& s, const request& r) {
  auto* resource = tagged_resource(s, r.params[0]);
  if (resource == nullptr) return not_found("resource", r.params[0]);
  const auto keys = tag_keys(r.query);
  if (!keys) return bad_request("malformed tagKeys");
  if (keys->empty()) return bad_request("tagKeys is required");
  json::object tags = tags_of(*resource);
  for (const auto& k : *keys) tags.erase(k);
  (*resource)["tags"] = std::move(tags);
  return no_content(false);
}

answer tag_resource(model& s, const request& r) {
  auto* resource = tagged_resource(s, r.params[0]);
  if (resource == nullptr) return not_found("resource", r.params[0]);
  const auto* add = r.body.if_contains("tags");
  if (add == nullptr || !add->is_object()) return bad_request("tags is required");
  json::object tags = tags_of(*resource);
  for (const auto& [k, v] : add->get_object()) tags[k] = v;
  (*resource)["tags"] = std::move(tags);
  return json_answer(201, json::object{}, false);
}

answer refuse_tags_method(model& s, const request& r) {
  if (tagged_resource(s, r.params[0]) == nullptr) return not_found("resource", r.params[0]);
  return bad_request("unsupported method");
}

// refuse_tags_request: /tags alone, or an ARN that was not sent as one segment.
answer refuse_tags_request(model&, const request&) {
  return bad_request("unsupported tags request");
}

}  // namespace

std::vector<route> tag_routes() {
  return {
      {"GET", "/tags/{resourceArn}", get_tags},
      {"POST", "/tags/{resourceArn}", tag_resource},
      {"DELETE", "/tags/{resourceArn}", untag_resource},
      {"*", "/tags/{resourceArn}", refuse_tags_method},
      {"*", "/tags/**", refuse_tags_request},
  };
}

}  // namespace apigw::gateway::detail::cp
