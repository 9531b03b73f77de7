// The schema of both stores (docs/design/store.md). Times are BIGINT unix milliseconds in both dialects;
// booleans are BOOLEAN (stored as 0/1 by SQLite). User ids are plain BIGINTs, not references to
// `users`: applications may authenticate against their own user store.
#include "store/schema.hpp"

#include "apigw/store/session_store.hpp"

#include <array>

namespace apigw::store::detail {
namespace {

constexpr migration_step same(std::string_view sql) noexcept {
  return {sql, sql};
}

// Version 1: every table of docs/design/store.md and the indexes of the hot queries.
constexpr std::array k_v1_steps{
    same("CREATE TABLE api_gateways ("
         "id {pk}, "
         "name TEXT NOT NULL UNIQUE, "
         "api_id TEXT NOT NULL DEFAULT '', "
         "endpoint TEXT NOT NULL DEFAULT '', "
         "region TEXT NOT NULL DEFAULT '', "
         "stage TEXT NOT NULL DEFAULT '', "
         "domain TEXT NOT NULL DEFAULT '', "
         "default_channel TEXT NOT NULL DEFAULT '', "
         "route_selection_expression TEXT NOT NULL DEFAULT '$request.body.action', "
         "target_base TEXT NOT NULL DEFAULT '', "
         "api_created BOOLEAN NOT NULL DEFAULT FALSE, "
         "custom_domain_created BOOLEAN NOT NULL DEFAULT FALSE, "
         "deployment_id TEXT NOT NULL DEFAULT '', "
         "created_at BIGINT NOT NULL, "
         "updated_at BIGINT NOT NULL)"),
    // The dispatcher checks X-Amzn-Apigateway-Api-Id against registered gateways.
    same("CREATE INDEX api_gateways_api_id_idx ON api_gateways (api_id)"),

    same("CREATE TABLE api_gateway_routes ("
         "id {pk}, "
         "gateway_id BIGINT NOT NULL REFERENCES api_gateways (id) ON DELETE CASCADE, "
         "name TEXT NOT NULL DEFAULT '', "
         "route_key TEXT NOT NULL, "
         "integration_url TEXT NOT NULL, "
         "deployed BOOLEAN NOT NULL DEFAULT FALSE, "
         "created_at BIGINT NOT NULL, "
         "updated_at BIGINT NOT NULL, "
         "UNIQUE (gateway_id, route_key))"),

    same("CREATE TABLE websocket_sessions ("
         "id {pk}, "
         "connection_id TEXT NOT NULL UNIQUE, "
         "user_id BIGINT, "
         "connected BOOLEAN NOT NULL DEFAULT TRUE, "
         "gateway_id BIGINT REFERENCES api_gateways (id) ON DELETE SET NULL, "
         "request_count BIGINT NOT NULL DEFAULT 1, "
         "created_at BIGINT NOT NULL, "
         "updated_at BIGINT NOT NULL, "
         "last_seen_at BIGINT NOT NULL)"),
    // Each index ends in id so keyset pages (id > $after ORDER BY id) are range scans in order.
    // Broadcast: every connected session.
    same("CREATE INDEX websocket_sessions_connected_idx ON websocket_sessions (connected, id)"),
    // Send to a user.
    same("CREATE INDEX websocket_sessions_user_idx ON websocket_sessions (user_id, connected, id)"),
    // Send through one gateway; also serves ON DELETE SET NULL when a gateway is deleted.
    same("CREATE INDEX websocket_sessions_gateway_idx ON websocket_sessions (gateway_id, connected, id)"),
    // Cleanup: disconnected sessions older than T.
    same("CREATE INDEX websocket_sessions_cleanup_idx ON websocket_sessions (connected, updated_at)"),

    // A session may be in several channels. SQLite stores this pure key table as a WITHOUT ROWID
    // b-tree (no hidden rowid, no second lookup).
    migration_step{"CREATE TABLE session_channels ("
                   "session_id BIGINT NOT NULL REFERENCES websocket_sessions (id) ON DELETE CASCADE, "
                   "channel TEXT NOT NULL, "
                   "joined_at BIGINT NOT NULL, "
                   "PRIMARY KEY (session_id, channel)) WITHOUT ROWID",
                   "CREATE TABLE session_channels ("
                   "session_id BIGINT NOT NULL REFERENCES websocket_sessions (id) ON DELETE CASCADE, "
                   "channel TEXT NOT NULL, "
                   "joined_at BIGINT NOT NULL, "
                   "PRIMARY KEY (session_id, channel))"},
    // Send to a channel: the members in session id order.
    same("CREATE INDEX session_channels_channel_idx ON session_channels (channel, session_id)"),

    same("CREATE TABLE websocket_tokens ("
         "id {pk}, "
         "token_hash TEXT NOT NULL UNIQUE, "
         "user_id BIGINT NOT NULL, "
         "session_key_hash TEXT NOT NULL, "
         "created_at BIGINT NOT NULL, "
         "used_at BIGINT)"),
    same("CREATE INDEX websocket_tokens_created_idx ON websocket_tokens (created_at)"),
    same("CREATE INDEX websocket_tokens_user_idx ON websocket_tokens (user_id, created_at)"),

    same("CREATE TABLE connection_attempts ("
         "id {pk}, "
         "ip TEXT NOT NULL, "
         "user_id BIGINT, "
         "at BIGINT NOT NULL, "
         "successful BOOLEAN NOT NULL DEFAULT FALSE)"),
    same("CREATE INDEX connection_attempts_ip_idx ON connection_attempts (ip, at)"),
    same("CREATE INDEX connection_attempts_user_idx ON connection_attempts (user_id, at)"),
    same("CREATE INDEX connection_attempts_at_idx ON connection_attempts (at)"),

    same("CREATE TABLE users ("
         "id {pk}, "
         "username TEXT NOT NULL UNIQUE, "
         "password_hash TEXT NOT NULL, "
         "created_at BIGINT NOT NULL)"),
    same("CREATE TABLE user_permissions ("
         "user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE, "
         "permission TEXT NOT NULL, "
         "PRIMARY KEY (user_id, permission))"),
};

// Version 2: the login limits and logout. Failed logins are keyed by the name as typed (not a user
// id: unknown names must count the same as known ones) and by client address; revoked sessions by
// the hash of their key, kept until the cookie would have expired anyway.
constexpr std::array k_v2_steps{
    same("CREATE TABLE login_failures ("
         "id {pk}, "
         "username TEXT NOT NULL, "
         "address TEXT NOT NULL, "
         "at BIGINT NOT NULL)"),
    // The limit check: failures of one name, and of one address, since the window's start.
    same("CREATE INDEX login_failures_username_idx ON login_failures (username, at)"),
    same("CREATE INDEX login_failures_address_idx ON login_failures (address, at)"),
    // Pruning: everything older than the window.
    same("CREATE INDEX login_failures_at_idx ON login_failures (at)"),

    same("CREATE TABLE revoked_sessions ("
         "session_key_hash TEXT PRIMARY KEY, "
         "expires_at BIGINT NOT NULL)"),
    same("CREATE INDEX revoked_sessions_expires_idx ON revoked_sessions (expires_at)"),
    // Logout deletes the session's unused connect tokens.
    same("CREATE INDEX websocket_tokens_session_idx ON websocket_tokens (session_key_hash)"),
};

// Version 3: channel history. channel_streams holds one counter row per channel with history: its
// epoch and newest offset. An append increments it and inserts the message in one transaction, so
// the row lock orders concurrent publishers (PostgreSQL) and a reader never sees an offset before
// the ones below it. Channels never published to with history have no row anywhere.
constexpr std::array k_v3_steps{
    same("CREATE TABLE channel_streams ("
         "channel TEXT PRIMARY KEY, "
         "epoch TEXT NOT NULL, "
         "last_offset BIGINT NOT NULL, "
         "updated_at BIGINT NOT NULL)"),
    // Keyed by (channel, offset): recovery reads a range of one channel, count retention deletes
    // the range below a bound.
    migration_step{"CREATE TABLE channel_history ("
                   "channel TEXT NOT NULL, "
                   "msg_offset BIGINT NOT NULL, "
                   "payload TEXT NOT NULL, "
                   "created_at BIGINT NOT NULL, "
                   "PRIMARY KEY (channel, msg_offset)) WITHOUT ROWID",
                   "CREATE TABLE channel_history ("
                   "channel TEXT NOT NULL, "
                   "msg_offset BIGINT NOT NULL, "
                   "payload TEXT NOT NULL, "
                   "created_at BIGINT NOT NULL, "
                   "PRIMARY KEY (channel, msg_offset))"},
    // Age retention: the messages older than a cutoff.
    same("CREATE INDEX channel_history_created_idx ON channel_history (created_at)"),
};

// Version 4: delivery jobs (docs/design/jobs.md). A job row holds the message, the target, the
// position pages are cut from (next_after) and the counters of finished pages; a page row holds its
// fixed bounds, its lease and its report, so an expired page is sent again with the same bounds.
// Self-contained: it touches no table of an earlier version.
constexpr std::array k_v4_steps{
    same("CREATE TABLE delivery_jobs ("
         "id {pk}, "
         "target_kind TEXT NOT NULL, "
         "target_channel TEXT NOT NULL DEFAULT '', "
         "target_user BIGINT NOT NULL DEFAULT 0, "
         "message TEXT NOT NULL, "
         "message_id TEXT NOT NULL DEFAULT '', "
         "state TEXT NOT NULL, "
         "page_size BIGINT NOT NULL, "
         "next_after BIGINT NOT NULL DEFAULT 0, "
         "exhausted BOOLEAN NOT NULL DEFAULT FALSE, "
         "finished_through BIGINT NOT NULL DEFAULT 0, "
         "pages BIGINT NOT NULL DEFAULT 0, "
         "pages_done BIGINT NOT NULL DEFAULT 0, "
         "delivered BIGINT NOT NULL DEFAULT 0, "
         "gone BIGINT NOT NULL DEFAULT 0, "
         "failed BIGINT NOT NULL DEFAULT 0, "
         "too_large BIGINT NOT NULL DEFAULT 0, "
         "retries BIGINT NOT NULL DEFAULT 0, "
         "failures TEXT NOT NULL DEFAULT '[]', "
         "error TEXT NOT NULL DEFAULT '', "
         "created_by TEXT NOT NULL DEFAULT '', "
         "created_at BIGINT NOT NULL, "
         "updated_at BIGINT NOT NULL)"),
    // Claiming a new page: the running jobs that still have recipients, oldest first.
    same("CREATE INDEX delivery_jobs_claim_idx ON delivery_jobs (state, exhausted, id)"),

    same("CREATE TABLE delivery_job_pages ("
         "job_id BIGINT NOT NULL REFERENCES delivery_jobs (id) ON DELETE CASCADE, "
         "page BIGINT NOT NULL, "
         "after_id BIGINT NOT NULL, "
         "last_id BIGINT NOT NULL, "
         "state TEXT NOT NULL, "
         "owner TEXT NOT NULL, "
         "attempt BIGINT NOT NULL DEFAULT 1, "
         "lease_expires_at BIGINT NOT NULL, "
         "delivered BIGINT NOT NULL DEFAULT 0, "
         "gone BIGINT NOT NULL DEFAULT 0, "
         "failed BIGINT NOT NULL DEFAULT 0, "
         "claimed_at BIGINT NOT NULL, "
         "finished_at BIGINT, "
         "PRIMARY KEY (job_id, page))"),
    // Claiming an abandoned page: claimed pages by lease expiry.
    same("CREATE INDEX delivery_job_pages_lease_idx ON delivery_job_pages (state, lease_expires_at)"),
};

constexpr std::array k_migrations{
    migration{1, "sessions, channels, gateways, routes, tokens, connection attempts, users", k_v1_steps},
    migration{2, "login failures, revoked sessions", k_v2_steps},
    migration{3, "channel history", k_v3_steps},
    migration{4, "delivery jobs", k_v4_steps},
};
static_assert(k_migrations.back().version == k_schema_version, "k_schema_version must name the last migration");

}  // namespace

std::span<const migration> migrations() noexcept {
  return k_migrations;
}

std::string step_sql(const migration_step& step, dialect d) {
  // SQLite: INTEGER PRIMARY KEY is the rowid; AUTOINCREMENT keeps ids from being reused after the
  // newest row is deleted, so an id names one session forever.
  static constexpr std::string_view k_token = "{pk}";
  const std::string_view pk = d == dialect::sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                                                   : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
  std::string sql{d == dialect::sqlite ? step.sqlite : step.postgresql};
  for (auto at = sql.find(k_token); at != std::string::npos; at = sql.find(k_token, at + pk.size())) {
    sql.replace(at, k_token.size(), pk);
  }
  return sql;
}

}  // namespace apigw::store::detail
