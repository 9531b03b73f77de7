// store/session_sql.hpp (private): the SQL text of every store operation, in one place, so the
// index tests can EXPLAIN exactly the statements the store runs. Parameters are `$1`, `$2`... in
// both dialects.
#pragma once

#include "apigw/store/session_query.hpp"
#include "store/database.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::store::detail {

// statement: SQL text and its parameters.
struct statement {
  std::string sql;
  std::vector<param> params;
};

// page_statement: the sessions matching `q` with id > after_id, in id order, at most `limit`.
statement page_statement(const session_query& q, session_id after_id, std::size_t limit);
// count_statement: COUNT(*) of the sessions matching `q`.
statement count_statement(const session_query& q);
// mark_disconnected_statement: sets connected = false on the listed connection ids in one
// statement (PostgreSQL: = ANY($1::text[]); SQLite: IN json_each($1)). With `created_before_ms`,
// only on sessions created before it (mark_gone: `AND created_at < $3`).
statement mark_disconnected_statement(dialect d, std::span<const std::string> connection_ids, std::int64_t now_ms,
                                      std::optional<std::int64_t> created_before_ms = std::nullopt);

// encode_pg_text_array: {"a","b"} with quotes and backslashes escaped.
std::string encode_pg_text_array(std::span<const std::string> items);
// encode_json_string_array: ["a","b"] with JSON string escapes.
std::string encode_json_string_array(std::span<const std::string> items);

namespace sql {

// The columns of a session row, in the order read_session expects.
inline constexpr std::string_view session_columns =
    "s.id, s.connection_id, s.user_id, s.connected, s.gateway_id, s.request_count, s.created_at, s.updated_at, "
    "s.last_seen_at";

// insert_session: $1 connection id, $2 user, $3 gateway, $4 now. No row back means a duplicate.
inline constexpr std::string_view insert_session =
    "INSERT INTO websocket_sessions (connection_id, user_id, connected, gateway_id, request_count, created_at, "
    "updated_at, last_seen_at) VALUES ($1, $2, TRUE, $3, 1, $4, $4, $4) ON CONFLICT (connection_id) DO NOTHING "
    "RETURNING id, connection_id, user_id, connected, gateway_id, request_count, created_at, updated_at, "
    "last_seen_at";
// insert_channel: $1 session id, $2 channel, $3 now.
inline constexpr std::string_view insert_channel =
    "INSERT INTO session_channels (session_id, channel, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
// session_by_id: $1 id.
inline constexpr std::string_view session_by_id =
    "SELECT s.id, s.connection_id, s.user_id, s.connected, s.gateway_id, s.request_count, s.created_at, "
    "s.updated_at, s.last_seen_at FROM websocket_sessions s WHERE s.id = $1";
// session_by_connection_id: $1 connection id.
inline constexpr std::string_view session_by_connection_id =
    "SELECT s.id, s.connection_id, s.user_id, s.connected, s.gateway_id, s.request_count, s.created_at, "
    "s.updated_at, s.last_seen_at FROM websocket_sessions s WHERE s.connection_id = $1";
// touch: $1 connection id, $2 now.
inline constexpr std::string_view touch =
    "UPDATE websocket_sessions SET request_count = request_count + 1, last_seen_at = $2 WHERE connection_id = $1 "
    "RETURNING id, connection_id, user_id, connected, gateway_id, request_count, created_at, updated_at, "
    "last_seen_at";
// join_channel: $1 connection id, $2 channel, $3 now. Zero rows: unknown session or already a member.
inline constexpr std::string_view join_channel =
    "INSERT INTO session_channels (session_id, channel, joined_at) SELECT id, $2, $3 FROM websocket_sessions "
    "WHERE connection_id = $1 ON CONFLICT DO NOTHING";
// leave_channel: $1 connection id, $2 channel. Zero rows: unknown session or not a member.
inline constexpr std::string_view leave_channel =
    "DELETE FROM session_channels WHERE channel = $2 AND session_id = (SELECT id FROM websocket_sessions WHERE "
    "connection_id = $1)";
// session_exists: $1 connection id.
inline constexpr std::string_view session_exists = "SELECT id FROM websocket_sessions WHERE connection_id = $1";
// channels_of: $1 connection id. No row: unknown session; one row with NULL channel: no channels.
inline constexpr std::string_view channels_of =
    "SELECT s.id, c.channel FROM websocket_sessions s LEFT JOIN session_channels c ON c.session_id = s.id WHERE "
    "s.connection_id = $1 ORDER BY c.channel";
// delete_disconnected: $1 cutoff. Channel memberships go by ON DELETE CASCADE.
inline constexpr std::string_view delete_disconnected =
    "DELETE FROM websocket_sessions WHERE connected = FALSE AND updated_at < $1";
// user_by_name: $1 username.
inline constexpr std::string_view user_by_name = "SELECT id FROM users WHERE username = $1";

// Built-in users. user_columns: the order read_user expects.
inline constexpr std::string_view insert_user =
    "INSERT INTO users (username, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id, username, "
    "password_hash, created_at";
inline constexpr std::string_view user_by_id =
    "SELECT id, username, password_hash, created_at FROM users WHERE id = $1";
inline constexpr std::string_view user_row_by_name =
    "SELECT id, username, password_hash, created_at FROM users WHERE username = $1";
inline constexpr std::string_view all_users =
    "SELECT id, username, password_hash, created_at FROM users ORDER BY username";
inline constexpr std::string_view set_password_hash = "UPDATE users SET password_hash = $2 WHERE id = $1";
// grant_permission: $1 user, $2 permission. Zero rows: already granted (or no such user: the
// foreign key fails first).
inline constexpr std::string_view grant_permission =
    "INSERT INTO user_permissions (user_id, permission) VALUES ($1, $2) ON CONFLICT DO NOTHING";
inline constexpr std::string_view revoke_permission =
    "DELETE FROM user_permissions WHERE user_id = $1 AND permission = $2";
inline constexpr std::string_view permissions_of =
    "SELECT permission FROM user_permissions WHERE user_id = $1 ORDER BY permission";

// insert_token: $1 token hash, $2 user, $3 session key hash, $4 now.
inline constexpr std::string_view insert_token =
    "INSERT INTO websocket_tokens (token_hash, user_id, session_key_hash, created_at) VALUES ($1, $2, $3, $4)";
// consume_token: $1 token hash, $2 session key hash, $3 not-before, $4 now. One statement: on
// PostgreSQL a concurrent second UPDATE waits for the first's row lock, re-checks used_at IS NULL
// and matches nothing; SQLite runs writers one at a time. Either way exactly one caller gets a row.
inline constexpr std::string_view consume_token =
    "UPDATE websocket_tokens SET used_at = $4 WHERE token_hash = $1 AND session_key_hash = $2 AND used_at IS NULL "
    "AND created_at >= $3 RETURNING user_id";
// count_tokens_since: $1 user, $2 since (websocket_tokens_user_idx).
inline constexpr std::string_view count_tokens_since =
    "SELECT COUNT(*) FROM websocket_tokens WHERE user_id = $1 AND created_at >= $2";
// delete_tokens: $1 cutoff.
inline constexpr std::string_view delete_tokens = "DELETE FROM websocket_tokens WHERE created_at < $1";

// insert_attempt: $1 ip, $2 user, $3 now, $4 successful.
inline constexpr std::string_view insert_attempt =
    "INSERT INTO connection_attempts (ip, user_id, at, successful) VALUES ($1, $2, $3, $4)";
// count_attempts_ip / count_attempts_user: $1 ip or user, $2 since (connection_attempts_ip_idx,
// connection_attempts_user_idx).
inline constexpr std::string_view count_attempts_ip =
    "SELECT COUNT(*) FROM connection_attempts WHERE ip = $1 AND at >= $2";
inline constexpr std::string_view count_attempts_user =
    "SELECT COUNT(*) FROM connection_attempts WHERE user_id = $1 AND at >= $2";
// delete_attempts: $1 cutoff (connection_attempts_at_idx).
inline constexpr std::string_view delete_attempts = "DELETE FROM connection_attempts WHERE at < $1";

// upsert_gateway: $1 name ... $12 deployment id, $13 now.
inline constexpr std::string_view upsert_gateway =
    "INSERT INTO api_gateways (name, api_id, endpoint, region, stage, domain, default_channel, "
    "route_selection_expression, target_base, api_created, custom_domain_created, deployment_id, created_at, "
    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) ON CONFLICT (name) DO UPDATE "
    "SET api_id = excluded.api_id, endpoint = excluded.endpoint, region = excluded.region, stage = excluded.stage, "
    "domain = excluded.domain, default_channel = excluded.default_channel, route_selection_expression = "
    "excluded.route_selection_expression, target_base = excluded.target_base, api_created = excluded.api_created, "
    "custom_domain_created = excluded.custom_domain_created, deployment_id = excluded.deployment_id, updated_at = "
    "excluded.updated_at RETURNING id, name, api_id, endpoint, region, stage, domain, default_channel, "
    "route_selection_expression, target_base, api_created, custom_domain_created, deployment_id, created_at, "
    "updated_at";
inline constexpr std::string_view gateway_by_id =
    "SELECT id, name, api_id, endpoint, region, stage, domain, default_channel, route_selection_expression, "
    "target_base, api_created, custom_domain_created, deployment_id, created_at, updated_at FROM api_gateways WHERE "
    "id = $1";
inline constexpr std::string_view gateway_by_api_id =
    "SELECT id, name, api_id, endpoint, region, stage, domain, default_channel, route_selection_expression, "
    "target_base, api_created, custom_domain_created, deployment_id, created_at, updated_at FROM api_gateways WHERE "
    "api_id = $1 ORDER BY id LIMIT 1";
inline constexpr std::string_view all_gateways =
    "SELECT id, name, api_id, endpoint, region, stage, domain, default_channel, route_selection_expression, "
    "target_base, api_created, custom_domain_created, deployment_id, created_at, updated_at FROM api_gateways ORDER "
    "BY id";

inline constexpr std::string_view gateway_by_name =
    "SELECT id, name, api_id, endpoint, region, stage, domain, default_channel, route_selection_expression, "
    "target_base, api_created, custom_domain_created, deployment_id, created_at, updated_at FROM api_gateways WHERE "
    "name = $1";
// delete_gateway: $1 id (routes go with it: ON DELETE CASCADE).
inline constexpr std::string_view delete_gateway = "DELETE FROM api_gateways WHERE id = $1";
// upsert_gateway_route: $1 gateway, $2 name, $3 route key, $4 integration url, $5 deployed, $6 now.
inline constexpr std::string_view upsert_gateway_route =
    "INSERT INTO api_gateway_routes (gateway_id, name, route_key, integration_url, deployed, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (gateway_id, route_key) DO UPDATE SET name = excluded.name, "
    "integration_url = excluded.integration_url, deployed = excluded.deployed, updated_at = excluded.updated_at "
    "RETURNING id, gateway_id, name, route_key, integration_url, deployed, created_at, updated_at";
// delete_gateway_route: $1 gateway, $2 route key.
inline constexpr std::string_view delete_gateway_route =
    "DELETE FROM api_gateway_routes WHERE gateway_id = $1 AND route_key = $2";
// gateway_routes: $1 gateway.
inline constexpr std::string_view gateway_routes =
    "SELECT id, gateway_id, name, route_key, integration_url, deployed, created_at, updated_at FROM "
    "api_gateway_routes WHERE gateway_id = $1 ORDER BY route_key";
// mark_routes_deployed: $1 gateway, $2 now.
inline constexpr std::string_view mark_routes_deployed =
    "UPDATE api_gateway_routes SET deployed = TRUE, updated_at = $2 WHERE gateway_id = $1 AND deployed = FALSE";

// Channel history. advance_stream: $1 channel, $2 epoch for a new stream, $3 now; returns the
// stream's epoch and new last offset. On PostgreSQL the upsert locks the counter row until the
// append's transaction ends, so concurrent appends to one channel take turns.
inline constexpr std::string_view advance_stream =
    "INSERT INTO channel_streams (channel, epoch, last_offset, updated_at) VALUES ($1, $2, 1, $3) ON CONFLICT "
    "(channel) DO UPDATE SET last_offset = channel_streams.last_offset + 1, updated_at = excluded.updated_at "
    "RETURNING epoch, last_offset";
// insert_history: $1 channel, $2 offset, $3 payload, $4 now.
inline constexpr std::string_view insert_history =
    "INSERT INTO channel_history (channel, msg_offset, payload, created_at) VALUES ($1, $2, $3, $4)";
// trim_history: $1 channel, $2 highest offset to delete (count retention; a primary-key range).
inline constexpr std::string_view trim_history = "DELETE FROM channel_history WHERE channel = $1 AND msg_offset <= $2";
// expire_history: $1 channel, $2 cutoff (age retention).
inline constexpr std::string_view expire_history = "DELETE FROM channel_history WHERE channel = $1 AND created_at < $2";
// stream_of: $1 channel.
inline constexpr std::string_view stream_of = "SELECT epoch, last_offset FROM channel_streams WHERE channel = $1";
// history_after: $1 channel, $2 after, $3 up to, $4 not before, $5 limit.
inline constexpr std::string_view history_after =
    "SELECT msg_offset, payload, created_at FROM channel_history WHERE channel = $1 AND msg_offset > $2 AND "
    "msg_offset <= $3 AND created_at >= $4 ORDER BY msg_offset LIMIT $5";
// reset_stream: $1 channel, $2 new epoch, $3 now.
inline constexpr std::string_view reset_stream =
    "UPDATE channel_streams SET epoch = $2, last_offset = 0, updated_at = $3 WHERE channel = $1";
// delete_channel_history: $1 channel.
inline constexpr std::string_view delete_channel_history = "DELETE FROM channel_history WHERE channel = $1";
// all_streams: every channel with history.
inline constexpr std::string_view all_streams =
    "SELECT channel, epoch, last_offset FROM channel_streams ORDER BY channel";

// Schema bookkeeping.
inline constexpr std::string_view schema_version_max = "SELECT MAX(version) FROM schema_version";
inline constexpr std::string_view insert_schema_version =
    "INSERT INTO schema_version (version, description, applied_at) VALUES ($1, $2, $3)";
inline constexpr std::string_view sqlite_has_schema_version =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";
inline constexpr std::string_view pg_has_schema_version =
    "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE "
    "schemaname = current_schema() AND tablename = "
    "'schema_version'";
// pg_migration_lock: serialises concurrent migrate() calls across processes (held to commit).
inline constexpr std::string_view pg_migration_lock = "SELECT pg_advisory_xact_lock(4242000001)";

}  // namespace sql
}  // namespace apigw::store::detail
