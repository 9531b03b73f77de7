// The apigatewayv2 control-plane subset: the request's path and body, the routing table that
// joins the resource families (control_plane/*.cpp), and the rule that a change to an API's
// children is kept only when the data plane can still serve the API.
#include "gateway/control_plane.hpp"

#include "apigw/core/text.hpp"
#include "gateway/control_plane/errors.hpp"
#include "gateway/control_plane/router.hpp"

#include <cassert>

namespace apigw::gateway::detail {
namespace cp {
namespace {

answer refuse_unknown(model&, const request&) {
  return error_answer(404, "NotFoundException", "apigw-ws serves apis, domainnames and tags only");
}

std::vector<route> all_routes() {
  std::vector<route> table{{"*", "/**", refuse_unknown}};
  for (auto family :
       {api_routes, integration_and_route_routes, stage_and_deployment_routes, domain_routes, tag_routes}) {
    auto routes = family();
    table.insert(table.end(), routes.begin(), routes.end());
  }
  return table;
}

// path_segments: the percent-decoded segments of `path` after its "/v2/" (empty ones inside
// kept, a trailing slash ignored); nullopt on a malformed escape.
std::optional<std::vector<std::string>> path_segments(std::string_view path) {
  std::vector<std::string> seg;
  path.remove_prefix(std::min<std::size_t>(path.size(), 4));  // "/v2/"
  while (!path.empty()) {
    const auto slash = path.find('/');
    auto decoded = percent_decode(path.substr(0, slash));
    if (!decoded) return std::nullopt;
    seg.push_back(std::move(*decoded));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return seg;
}

// run_checked: runs a `checked` entry. Every change to an API's children is checked by building
// what the data plane would serve; a failure restores the API as it was and answers 400.
answer run_checked(model& m, const route& entry, const request& req) {
  auto api = m.apis.find(req.params.at(0));
  if (api == m.apis.end()) return entry.fn(m, req);  // the handler answers NotFoundException
  api_model before = api->second;
  answer a = entry.fn(m, req);
  if (a.changed) {
    if (auto served = served_api(api->second); !served) {
      api->second = std::move(before);
      return bad_request(served.error().message);
    }
  }
  return a;
}

}  // namespace

const router& control_plane_router() {
  static const router r(all_routes());
  return r;
}

}  // namespace cp

control_plane::control_plane(const gateway_config& initial, clock::time_point now)
    : model_(cp::model_from_config(initial, now)) {}

control_plane::answer control_plane::handle(std::string_view method, std::string_view target, std::string_view body,
                                            clock::time_point now) {
  std::string_view path = target;
  std::string_view query;
  if (const auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  auto seg = cp::path_segments(path);
  if (!seg) return cp::bad_request("malformed path");
  json::object obj;
  if (!body.empty() && method != "GET" && method != "DELETE") {
    auto parsed = parse_json_object(body);
    if (!parsed) return cp::bad_request(fmt::format("Invalid request body: {}", parsed.error().message));
    obj = std::move(*parsed);
  }
  auto found = cp::control_plane_router().find(method, *seg);
  assert(found);  // "/**" matches every request
  const cp::request req{method, std::move(found->params), query, obj, now};
  std::lock_guard lock(mu_);
  if (found->entry->checked) return cp::run_checked(model_, *found->entry, req);
  return found->entry->fn(model_, req);
}

gateway_config control_plane::build() const {
  std::lock_guard lock(mu_);
  return cp::served_config(model_);
}

std::string control_plane::save() const {
  std::lock_guard lock(mu_);
  return cp::save_apis(model_);
}

result<void> control_plane::load(std::string_view text) {
  auto loaded = cp::load_apis(text);
  if (!loaded) return loaded.error();
  std::lock_guard lock(mu_);
  model_.apis = std::move(*loaded);
  return ok();
}

}  // namespace apigw::gateway::detail
