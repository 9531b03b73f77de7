// apigw/store/records.hpp: the rows the session store reads and writes, as plain values.
//
// Times are wall-clock instants (stored as integer unix milliseconds in both databases, so they
// round to the millisecond). Ids are the database's 64-bit keys; user ids belong to whichever
// authenticator the application uses, so they are not tied to the built-in users table.
#pragma once

#include "apigw/core/clock.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace apigw::store {

using session_id = std::int64_t;
using user_id = std::int64_t;
using gateway_id = std::int64_t;

// Longest channel name the store accepts, in bytes.
inline constexpr std::size_t k_max_channel_length = 128;

// session: one WebSocket connection known to the backend (table websocket_sessions).
struct session {
  session_id id = 0;
  std::string connection_id;
  std::optional<user_id> user;        // empty for anonymous connections
  bool connected = true;              // false once $disconnect arrived or a send found it gone
  std::optional<gateway_id> gateway;  // the gateway that owns the connection (empty if unknown or deleted)
  std::int64_t request_count = 1;     // $connect counts as the first request; touch() adds one
  clock::time_point created_at{};
  clock::time_point updated_at{};    // last change of state (connected, user, gateway), not of activity
  clock::time_point last_seen_at{};  // last request from the connection

  friend bool operator==(const session&, const session&) = default;
};

// gateway: one API Gateway WebSocket API stage the backend serves (table api_gateways). `name` is
// the natural key: upsert_gateway inserts or updates by name.
struct gateway {
  gateway_id id = 0;
  std::string name;
  std::string api_id;    // e.g. "abc123defg"; matched against X-Amzn-Apigateway-Api-Id
  std::string endpoint;  // management endpoint: "https://abc.execute-api.us-east-1.amazonaws.com/prod"
  std::string region;
  std::string stage;
  std::string domain;  // custom domain, e.g. "ws.example.com"; empty when none
  std::string default_channel;
  std::string route_selection_expression = "$request.body.action";
  std::string target_base;  // backend base URL: integrations call {target_base}connect etc.
  bool api_created = false;
  bool custom_domain_created = false;
  std::string deployment_id;
  clock::time_point created_at{};
  clock::time_point updated_at{};

  friend bool operator==(const gateway&, const gateway&) = default;
};

// gateway_route: one route of a gateway as last applied (table api_gateway_routes): the route key,
// the integration URL API Gateway calls for it, and whether the stage's current deployment holds
// it. `route_key` is unique per gateway.
struct gateway_route {
  std::int64_t id = 0;
  gateway_id gateway = 0;
  std::string name;  // descriptive only
  std::string route_key;
  std::string integration_url;
  bool deployed = false;
  clock::time_point created_at{};
  clock::time_point updated_at{};

  friend bool operator==(const gateway_route&, const gateway_route&) = default;
};

// user: one user of the built-in user store (table users). `password_hash` is whatever the
// authenticator stores (an Argon2id string for the built-in one); the store never interprets it.
struct user {
  user_id id = 0;
  std::string username;
  std::string password_hash;
  clock::time_point created_at{};

  friend bool operator==(const user&, const user&) = default;
};

// attempt_counts: connection attempts in a rate-limit window, by client IP and by user (0 when no
// user was asked about).
struct attempt_counts {
  std::int64_t by_ip = 0;
  std::int64_t by_user = 0;
};

}  // namespace apigw::store
