// apigw/store/gateway_repository.hpp: the gateways slice of the store: the API Gateway stages the
// backend serves (api_gateways) and their routes as last applied (api_gateway_routes).
//
// Part of session_store (session_store.hpp). The backend's gateway-identity cache, the sender's
// endpoint lookup and the provisioning commands take this slice. Thread-safe and blocking; members
// return a failure instead of throwing.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/store/error.hpp"
#include "apigw/store/records.hpp"

#include <cstddef>
#include <string_view>
#include <vector>

namespace apigw::store {

// gateway_repository: api_gateways and api_gateway_routes (see the file comment).
class gateway_repository {
 public:
  virtual ~gateway_repository() = default;

  // upsert_gateway: inserts `g`, or updates the gateway with the same name (keeping its id and
  // created_at); `g.id` and the timestamps are ignored. Returns the stored row. invalid_argument
  // when the name is empty.
  virtual result<gateway> upsert_gateway(const gateway& g) = 0;
  // get_gateway: the gateway with this id, or not_found.
  virtual result<gateway> get_gateway(gateway_id id) = 0;
  // find_gateway_by_api_id: the gateway with this API id (the lowest id when several stages share
  // it), or not_found.
  virtual result<gateway> find_gateway_by_api_id(std::string_view api_id) = 0;
  // list_gateways: every gateway in id order.
  virtual result<std::vector<gateway>> list_gateways() = 0;
  // find_gateway_by_name: the gateway called `name`, or not_found.
  virtual result<gateway> find_gateway_by_name(std::string_view name) = 0;
  // delete_gateway: deletes the gateway and its routes (its sessions keep no gateway). Returns true
  // when it existed.
  virtual result<bool> delete_gateway(gateway_id id) = 0;
  // upsert_gateway_route: inserts the route, or updates the gateway's route with the same key
  // (name, integration_url, deployed). `r.id` and the timestamps are ignored. Returns the stored
  // row; invalid_argument for an empty route key or URL, constraint_violation when `r.gateway`
  // names no gateway.
  virtual result<gateway_route> upsert_gateway_route(const gateway_route& r) = 0;
  // delete_gateway_route: deletes the gateway's route with this key. Returns true when it existed.
  virtual result<bool> delete_gateway_route(gateway_id gateway, std::string_view route_key) = 0;
  // list_gateway_routes: the gateway's routes in route-key order (empty for an unknown gateway).
  virtual result<std::vector<gateway_route>> list_gateway_routes(gateway_id gateway) = 0;
  // mark_gateway_routes_deployed: sets deployed = true on every route of the gateway. Returns how
  // many changed.
  virtual result<std::size_t> mark_gateway_routes_deployed(gateway_id gateway) = 0;
};

}  // namespace apigw::store
