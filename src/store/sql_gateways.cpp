// The gateways slice of the SQL store: API Gateway stages (upserted by name) and their routes.
#include "store/sql_store.hpp"

#include "store/sql_common.hpp"

#include <fmt/format.h>
#include <algorithm>

namespace apigw::store::detail {
namespace {

gateway read_gateway(const rows& r, std::size_t i) {
  gateway g;
  g.id = cell_int(r, i, 0);
  g.name = cell_text(r, i, 1);
  g.api_id = cell_text(r, i, 2);
  g.endpoint = cell_text(r, i, 3);
  g.region = cell_text(r, i, 4);
  g.stage = cell_text(r, i, 5);
  g.domain = cell_text(r, i, 6);
  g.default_channel = cell_text(r, i, 7);
  g.route_selection_expression = cell_text(r, i, 8);
  g.target_base = cell_text(r, i, 9);
  g.api_created = cell_bool(r, i, 10);
  g.custom_domain_created = cell_bool(r, i, 11);
  g.deployment_id = cell_text(r, i, 12);
  g.created_at = from_unix_millis(cell_int(r, i, 13));
  g.updated_at = from_unix_millis(cell_int(r, i, 14));
  return g;
}

gateway_route read_gateway_route(const rows& r, std::size_t i) {
  gateway_route g;
  g.id = cell_int(r, i, 0);
  g.gateway = cell_int(r, i, 1);
  g.name = cell_text(r, i, 2);
  g.route_key = cell_text(r, i, 3);
  g.integration_url = cell_text(r, i, 4);
  g.deployed = cell_bool(r, i, 5);
  g.created_at = from_unix_millis(cell_int(r, i, 6));
  g.updated_at = from_unix_millis(cell_int(r, i, 7));
  return g;
}

}  // namespace

result<gateway> sql_store::upsert_gateway(const gateway& g) {
  if (g.name.empty()) return failure{error::invalid_argument, "a gateway needs a name"};
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<gateway> {
    const param params[] = {g.name,
                            g.api_id,
                            g.endpoint,
                            g.region,
                            g.stage,
                            g.domain,
                            g.default_channel,
                            g.route_selection_expression,
                            g.target_base,
                            g.api_created,
                            g.custom_domain_created,
                            g.deployment_id,
                            now};
    auto r = c.exec(sql::upsert_gateway, params);
    if (!r) return r.error();
    return read_gateway(*r, 0);
  });
}

result<gateway> sql_store::get_gateway(gateway_id id) {
  return with_connection(*db_, [&](connection& c) -> result<gateway> {
    const param params[] = {id};
    auto r = c.exec(sql::gateway_by_id, params);
    if (!r) return r.error();
    if (r->empty()) return failure{error::not_found, fmt::format("no gateway with id {}", id)};
    return read_gateway(*r, 0);
  });
}

result<gateway> sql_store::find_gateway_by_api_id(std::string_view api_id) {
  if (api_id.empty()) return failure{error::invalid_argument, "an API id cannot be empty"};
  return with_connection(*db_, [&](connection& c) -> result<gateway> {
    const param params[] = {std::string{api_id}};
    auto r = c.exec(sql::gateway_by_api_id, params);
    if (!r) return r.error();
    if (r->empty()) return failure{error::not_found, fmt::format("no gateway with API id '{}'", api_id)};
    return read_gateway(*r, 0);
  });
}

result<std::vector<gateway>> sql_store::list_gateways() {
  return with_connection(*db_, [&](connection& c) -> result<std::vector<gateway>> {
    auto r = c.exec(sql::all_gateways, {});
    if (!r) return r.error();
    std::vector<gateway> gateways;
    for (std::size_t i = 0; i < r->size(); ++i) gateways.push_back(read_gateway(*r, i));
    return gateways;
  });
}

result<gateway> sql_store::find_gateway_by_name(std::string_view name) {
  return with_connection(*db_, [&](connection& c) -> result<gateway> {
    const param params[] = {std::string{name}};
    auto r = c.exec(sql::gateway_by_name, params);
    if (!r) return r.error();
    if (r->empty()) return failure{error::not_found, fmt::format("no gateway named '{}'", name)};
    return read_gateway(*r, 0);
  });
}

result<bool> sql_store::delete_gateway(gateway_id id) {
  return with_connection(*db_, [&](connection& c) -> result<bool> {
    const param params[] = {id};
    auto r = c.exec(sql::delete_gateway, params);
    if (!r) return r.error();
    return r->affected > 0;
  });
}

result<gateway_route> sql_store::upsert_gateway_route(const gateway_route& route) {
  if (route.route_key.empty()) return failure{error::invalid_argument, "a gateway route needs a route key"};
  if (route.integration_url.empty()) {
    return failure{error::invalid_argument, fmt::format("route {} needs an integration URL", route.route_key)};
  }
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<gateway_route> {
    const param params[] = {route.gateway, route.name, route.route_key, route.integration_url, route.deployed, now};
    auto r = c.exec(sql::upsert_gateway_route, params);
    if (!r) return r.error();
    return read_gateway_route(*r, 0);
  });
}

result<bool> sql_store::delete_gateway_route(gateway_id gateway, std::string_view route_key) {
  return with_connection(*db_, [&](connection& c) -> result<bool> {
    const param params[] = {gateway, std::string{route_key}};
    auto r = c.exec(sql::delete_gateway_route, params);
    if (!r) return r.error();
    return r->affected > 0;
  });
}

result<std::vector<gateway_route>> sql_store::list_gateway_routes(gateway_id gateway) {
  return with_connection(*db_, [&](connection& c) -> result<std::vector<gateway_route>> {
    const param params[] = {gateway};
    auto r = c.exec(sql::gateway_routes, params);
    if (!r) return r.error();
    std::vector<gateway_route> routes;
    for (std::size_t i = 0; i < r->size(); ++i) routes.push_back(read_gateway_route(*r, i));
    // Byte order, whatever the database's collation (a PostgreSQL language collation would put
    // "$connect" after "chat").
    std::sort(routes.begin(), routes.end(),
              [](const gateway_route& a, const gateway_route& b) { return a.route_key < b.route_key; });
    return routes;
  });
}

result<std::size_t> sql_store::mark_gateway_routes_deployed(gateway_id gateway) {
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<std::size_t> {
    const param params[] = {gateway, now};
    auto r = c.exec(sql::mark_routes_deployed, params);
    if (!r) return r.error();
    return static_cast<std::size_t>(r->affected);
  });
}

}  // namespace apigw::store::detail
