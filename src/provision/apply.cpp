// The executor: read the live state, plan, make the operations in order over the control-plane
// client, telling the caller what to record as it goes.
#include "apigw/provision/apply.hpp"

#include <fmt/format.h>

#include <map>
#include <memory>
#include <set>
#include <utility>

namespace apigw::provision {
namespace {

namespace asio = boost::asio;
using object = boost::json::object;

// responses_path: /v2/apis/{api}/{parent_kind}/{parent}/{kind}[/{id}], labels encoded as botocore
// encodes them (integration and route responses have no method on the client).
std::string responses_path(std::string_view api_id, std::string_view parent_kind, std::string_view parent,
                           std::string_view kind, std::string_view id) {
  using mgmt::control_plane_client;
  std::string path = fmt::format("/v2/apis/{}/{}/{}/{}", control_plane_client::encode_label(api_id), parent_kind,
                                 control_plane_client::encode_label(parent), kind);
  if (!id.empty()) path += "/" + control_plane_client::encode_label(id);
  return path;
}

// call: the control-plane call of `o`. `scope` is the API id (API operations) or the domain name
// (domain operations). Record operations are not calls.
asio::awaitable<result<object>> call(mgmt::control_plane_client& client, const std::string& scope, const operation& o) {
  switch (o.kind) {
    case op::create_api:
      co_return co_await client.create_api(o.body);
    case op::update_api:
      co_return co_await client.update_api(scope, o.body);
    case op::untag_resource:
      co_return co_await client.untag_resource(o.target, o.tag_keys);
    case op::tag_resource:
      co_return co_await client.tag_resource(o.target, o.body);
    case op::create_integration:
      co_return co_await client.create_integration(scope, o.body);
    case op::update_integration:
      co_return co_await client.update_integration(scope, o.target, o.body);
    case op::delete_integration:
      co_return co_await client.delete_integration(scope, o.target);
    case op::create_route:
      co_return co_await client.create_route(scope, o.body);
    case op::update_route:
      co_return co_await client.update_route(scope, o.target, o.body);
    case op::delete_route:
      co_return co_await client.delete_route(scope, o.target);
    case op::create_integration_response:
      co_return co_await client.call("CreateIntegrationResponse", "POST",
                                     responses_path(scope, "integrations", o.target, "integrationresponses", {}), {},
                                     o.body);
    case op::update_integration_response:
      co_return co_await client.call("UpdateIntegrationResponse", "PATCH",
                                     responses_path(scope, "integrations", o.target, "integrationresponses", o.child),
                                     {}, o.body);
    case op::delete_integration_response:
      co_return co_await client.call("DeleteIntegrationResponse", "DELETE",
                                     responses_path(scope, "integrations", o.target, "integrationresponses", o.child));
    case op::create_route_response:
      co_return co_await client.call("CreateRouteResponse", "POST",
                                     responses_path(scope, "routes", o.target, "routeresponses", {}), {}, o.body);
    case op::delete_route_response:
      co_return co_await client.call("DeleteRouteResponse", "DELETE",
                                     responses_path(scope, "routes", o.target, "routeresponses", o.child));
    case op::create_stage:
      co_return co_await client.create_stage(scope, o.body);
    case op::update_stage:
      co_return co_await client.update_stage(scope, o.target, o.body);
    case op::delete_access_log_settings:
      co_return co_await client.call(
          "DeleteAccessLogSettings", "DELETE",
          fmt::format("/v2/apis/{}/stages/{}/accesslogsettings", mgmt::control_plane_client::encode_label(scope),
                      mgmt::control_plane_client::encode_label(o.target)));
    case op::create_deployment:
      co_return co_await client.create_deployment(scope, o.body);
    case op::delete_stage:
      co_return co_await client.call(
          "DeleteStage", "DELETE",
          fmt::format("/v2/apis/{}/stages/{}", mgmt::control_plane_client::encode_label(scope),
                      mgmt::control_plane_client::encode_label(o.target)));
    case op::create_domain_name:
      co_return co_await client.create_domain_name(o.body);
    case op::update_domain_name:
      co_return co_await client.update_domain_name(scope, o.body);
    case op::create_api_mapping:
      co_return co_await client.create_api_mapping(scope, o.body);
    case op::update_api_mapping:
      co_return co_await client.update_api_mapping(scope, o.target, o.body);
    case op::record_route:
    case op::forget_route:
      break;
  }
  object none;
  co_return none;
}

// undeploys: whether the operation changes what the deployment holds (or makes the stage anew).
bool undeploys(op kind) {
  switch (kind) {
    case op::create_integration:
    case op::update_integration:
    case op::create_route:
    case op::update_route:
    case op::delete_route:
    case op::create_integration_response:
    case op::update_integration_response:
    case op::delete_integration_response:
    case op::create_route_response:
    case op::delete_route_response:
    case op::create_stage:
      return true;
    default:
      return false;
  }
}

// resolve_new_ids: an integration (route) response operation on the integration (route) created
// earlier in the run for its route key gets that one's real id.
void resolve_new_ids(operation& o, const std::map<std::string, std::string>& integrations,
                     const std::map<std::string, std::string>& routes) {
  if (o.target != k_new_id) return;
  const bool on_integration = o.kind == op::create_integration_response;
  const bool on_route = o.kind == op::create_route_response;
  if (!on_integration && !on_route) return;
  const auto& created = on_integration ? integrations : routes;
  if (auto it = created.find(o.route_key); it != created.end()) o.target = it->second;
}

// resolve_new_integration: a route operation targeting the integration created earlier in the
// run for its route key gets that integration's real id (in its body and its line).
void resolve_new_integration(operation& o, const std::map<std::string, std::string>& created) {
  if (o.kind != op::create_route && o.kind != op::update_route) return;
  const std::string placeholder = "integrations/" + std::string(k_new_id);
  auto it = created.find(o.route_key);
  if (it == created.end() || member_string(o.body, "target") != placeholder) return;
  const std::string real = "integrations/" + it->second;
  o.body["target"] = real;
  if (auto at = o.line.find(placeholder); at != std::string::npos) o.line.replace(at, placeholder.size(), real);
}

result<void> record_step(api_hooks& hooks, const operation& o) {
  if (o.kind == op::record_route) return hooks.record_route(o.record);
  if (o.kind == op::forget_route) return hooks.forget_route(o.route_key);
  return ok();
}

// api_run: one apply_api run. The state lives in this object rather than in coroutine locals
// (GCC 12 miscompiles aggregate locals in coroutine bodies).
class api_run {
 public:
  api_run(mgmt::control_plane_client& client, const api_config& c, api_record record, std::string region, bool dry_run,
          api_hooks& hooks)
      : client_(client), c_(c), region_(std::move(region)), dry_run_(dry_run), hooks_(hooks) {
    live_.record = std::move(record);
  }

  // read: the API (by the recorded id, else by name) and, when it exists, its integrations,
  // routes and stages.
  asio::awaitable<result<void>> read() {
    const std::string recorded_id = live_.record.api_id;
    bool by_recorded_id = false;
    if (!recorded_id.empty()) {
      auto api = co_await client_.get_api(recorded_id);
      if (api) {
        live_.api = std::move(*api);
        by_recorded_id = true;
      } else if (api.error() != condition::not_found) {
        co_return api.error();
      } else {
        hooks_.note(
            fmt::format("note: API {} recorded for {} no longer exists; looking it up by name", recorded_id, c_.name));
      }
    }
    if (!by_recorded_id) {
      auto apis = co_await client_.get_apis();
      if (!apis) co_return apis.error();
      auto picked = pick_api(c_, *apis);
      if (!picked) co_return picked.error();
      live_.api = std::move(*picked);
    }
    if (!live_.api) co_return ok();
    out_.api_id = member_string(*live_.api, "apiId");
    if (!dry_run_) {
      if (auto r = hooks_.record_api(out_.api_id, !by_recorded_id); !r) co_return r.error();
    }
    auto integrations = co_await client_.get_integrations(out_.api_id);
    if (!integrations) co_return integrations.error();
    live_.integrations = std::move(*integrations);
    auto routes = co_await client_.get_routes(out_.api_id);
    if (!routes) co_return routes.error();
    live_.routes = std::move(*routes);
    auto stages = co_await client_.get_stages(out_.api_id);
    if (!stages) co_return stages.error();
    live_.stages = std::move(*stages);
    co_return co_await read_responses();
  }

  // read_responses: the integration responses of MOCK integrations and the route responses of the
  // routes the file makes MOCK routes (nothing else is planned from them).
  asio::awaitable<result<void>> read_responses() {
    using mgmt::control_plane_client;
    for (const auto& i : live_.integrations) {
      if (member_string(i, "integrationType") != "MOCK") continue;
      const std::string id = member_string(i, "integrationId");
      auto items = co_await client_.list(
          "GetIntegrationResponses",
          fmt::format("/v2/apis/{}/integrations/{}/integrationresponses",
                      control_plane_client::encode_label(out_.api_id), control_plane_client::encode_label(id)));
      if (!items) co_return items.error();
      live_.integration_responses[id] = std::move(*items);
    }
    std::set<std::string> mock_keys;
    for (const auto& d : desired_routes(c_)) {
      if (d.is_mock()) mock_keys.insert(d.key);
    }
    for (const auto& r : live_.routes) {
      if (!mock_keys.contains(member_string(r, "routeKey"))) continue;
      const std::string id = member_string(r, "routeId");
      auto items =
          co_await client_.list("GetRouteResponses", fmt::format("/v2/apis/{}/routes/{}/routeresponses",
                                                                 control_plane_client::encode_label(out_.api_id),
                                                                 control_plane_client::encode_label(id)));
      if (!items) co_return items.error();
      live_.route_responses[id] = std::move(*items);
    }
    co_return ok();
  }

  // perform: plans and makes the operations in order (in a dry run only announces them).
  asio::awaitable<result<void>> perform() {
    ops_ = plan_api(c_, live_, region_);
    out_.changes = changes(ops_);
    for (auto& o : ops_) {
      if (o.line.empty()) {
        if (dry_run_) continue;
        if (auto r = record_step(hooks_, o); !r) co_return r.error();
        continue;
      }
      resolve_new_integration(o, created_);
      resolve_new_ids(o, created_, created_routes_);
      hooks_.step(o);
      if (dry_run_) continue;
      if (undeploys(o.kind)) {
        if (auto r = hooks_.record_undeployed(); !r) co_return r.error();
      }
      auto answer = co_await call(client_, out_.api_id, o);
      if (!answer) co_return answer.error();
      if (auto r = after(o, *answer); !r) co_return r.error();
    }
    co_return ok();
  }

  const api_outcome& outcome() const { return out_; }

 private:
  // after: what a successful call leaves to remember or record.
  result<void> after(const operation& o, const object& answer) {
    switch (o.kind) {
      case op::create_api:
        out_.api_id = member_string(answer, "apiId");
        return hooks_.record_api(out_.api_id, true);
      case op::create_integration:
        created_[o.route_key] = member_string(answer, "integrationId");
        return ok();
      case op::create_route:
        created_routes_[o.route_key] = member_string(answer, "routeId");
        return ok();
      case op::create_deployment: {
        out_.deployment_id = member_string(answer, "deploymentId");
        if (auto r = hooks_.record_deployed(out_.deployment_id); !r) return r.error();
        hooks_.note(fmt::format("deployed {} to stage {} (deployment {})", c_.name, c_.stage, out_.deployment_id));
        return ok();
      }
      default:
        return ok();
    }
  }

  mgmt::control_plane_client& client_;
  const api_config& c_;
  std::string region_;
  bool dry_run_;
  api_hooks& hooks_;
  live_api live_;
  std::vector<operation> ops_;
  std::map<std::string, std::string> created_;         // integration id by route key
  std::map<std::string, std::string> created_routes_;  // route id by route key
  api_outcome out_;
};

// domain_run: one apply_domain run (state in the object, as api_run).
class domain_run {
 public:
  domain_run(mgmt::control_plane_client& client, domain_config d, std::string api_id, std::string stage, bool dry_run,
             api_hooks& hooks)
      : client_(client),
        d_(std::move(d)),
        api_id_(std::move(api_id)),
        stage_(std::move(stage)),
        dry_run_(dry_run),
        hooks_(hooks) {}

  asio::awaitable<result<void>> run() {
    auto existing = co_await client_.get_domain_name(d_.name);
    if (!existing && existing.error() != condition::not_found) co_return existing.error();
    if (existing) {
      out_.target = domain_target(*existing);
      live_.domain = std::move(*existing);
      auto mappings = co_await client_.get_api_mappings(d_.name);
      if (!mappings) co_return mappings.error();
      live_.mappings = std::move(*mappings);
    }
    ops_ = plan_domain(d_, live_, api_id_, stage_);
    out_.changes = changes(ops_);
    for (const auto& o : ops_) {
      hooks_.step(o);
      if (dry_run_) continue;
      auto answer = co_await call(client_, d_.name, o);
      if (!answer) co_return answer.error();
      if (o.kind == op::create_domain_name || o.kind == op::update_domain_name) {
        if (auto t = domain_target(*answer); !t.empty()) out_.target = std::move(t);
      }
    }
    co_return ok();
  }

  const domain_outcome& outcome() const { return out_; }

 private:
  mgmt::control_plane_client& client_;
  domain_config d_;
  std::string api_id_;
  std::string stage_;
  bool dry_run_;
  api_hooks& hooks_;
  live_domain live_;
  std::vector<operation> ops_;
  domain_outcome out_;
};

}  // namespace

asio::awaitable<result<api_outcome>> apply_api(mgmt::control_plane_client& client, const api_config& c,
                                               api_record record, std::string region, bool dry_run, api_hooks& hooks) {
  auto run = std::make_unique<api_run>(client, c, std::move(record), std::move(region), dry_run, hooks);
  if (auto r = co_await run->read(); !r) co_return r.error();
  if (auto r = co_await run->perform(); !r) co_return r.error();
  co_return run->outcome();
}

asio::awaitable<result<domain_outcome>> apply_domain(mgmt::control_plane_client& client, domain_config d,
                                                     std::string api_id, std::string stage, bool dry_run,
                                                     api_hooks& hooks) {
  auto run = std::make_unique<domain_run>(client, std::move(d), std::move(api_id), std::move(stage), dry_run, hooks);
  if (auto r = co_await run->run(); !r) co_return r.error();
  co_return run->outcome();
}

}  // namespace apigw::provision
