// apigw/store/session_store.hpp: the store interface (sessions, channels, gateways, token cleanup)
// and `open_store`, which picks SQLite or PostgreSQL from a database URL.
//
// The API is synchronous and thread-safe: any thread may call any member at any time. Calls block on
// the database, so asynchronous code runs them on a thread pool. Every member returns a failure
// instead of throwing; the conditions a caller can act on are
//   conflict          a duplicate connection id or gateway name (nothing was overwritten)
//   not_found         no such session or gateway
//   unavailable       database locked, server unreachable, schema missing: retry or fix the setup
//   invalid_argument  a malformed URL, connection id, channel name or page size
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/store/error.hpp"
#include "apigw/store/login_store.hpp"
#include "apigw/store/records.hpp"
#include "apigw/store/session_query.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::store {

// Largest page `page()` returns; bigger limits are refused rather than silently cut.
inline constexpr std::size_t k_max_page_size = 10'000;

// backend: which database a store talks to.
enum class backend { sqlite, postgresql };

// store_options: tuning that does not belong in the URL.
struct store_options {
  // SQLite: how long a write waits for another connection's lock before failing with busy.
  std::chrono::milliseconds busy_timeout{5000};
  // PostgreSQL: most connections kept open; callers beyond that wait for one to be returned.
  std::size_t pool_size = 4;
  // PostgreSQL: how long one connection attempt may take (unless the URL sets connect_timeout).
  std::chrono::seconds connect_timeout{5};
  // PostgreSQL: longest one statement may take. The server cancels a statement that runs longer
  // (`SET statement_timeout`; the call fails with busy); a server that does not answer at all
  // (stopped, frozen, cut off) is given up on k_statement_grace later and the connection dropped
  // (unreachable). Either way the call returns instead of hanging. 0: no limit on either side.
  std::chrono::milliseconds statement_timeout{30000};
};

// How long past statement_timeout the PostgreSQL driver waits for a server that sends nothing,
// so that a live server's own cancellation (which keeps the connection) normally arrives first.
inline constexpr std::chrono::milliseconds k_statement_grace{1000};

// migration_outcome: what migrate() did.
struct migration_outcome {
  int from_version = 0;  // schema version found (0: empty database)
  int to_version = 0;    // schema version now (k_schema_version after success)
};

// The schema version this program writes and expects.
inline constexpr int k_schema_version = 2;

// session_store: sessions and their channels, gateway records, token cleanup, and the login
// store's failures and revocations. One interface; the SQLite and PostgreSQL implementations share
// one schema and behave identically.
class session_store : public login_store {
 public:
  virtual ~session_store() = default;

  // kind: the database behind this store.
  virtual store::backend kind() const noexcept = 0;
  // location: where the database is, for logs: a file path or a URL without its password.
  virtual std::string location() const = 0;
  // time: the clock that stamps every stored time (created_at, updated_at...). Code that compares
  // against stored times (e.g. a cutoff for mark_gone) takes "now" from here, so both sides agree.
  virtual const clock& time() const noexcept = 0;

  // migrate: brings the schema up to k_schema_version, applying the missing migrations in one
  // transaction (safe to run again, and from several processes at once). Fails with schema_too_new
  // when the database was migrated by a newer program, leaving it untouched.
  virtual result<migration_outcome> migrate() = 0;
  // schema_version: the version recorded in the database (0 when it was never migrated).
  virtual result<int> schema_version() = 0;

  // --- sessions ---------------------------------------------------------------------------------

  // create_session: records a new connected session (request_count 1, all times now) and its initial
  // channels, atomically. Fails with duplicate_connection_id (conflict) when the connection id is
  // taken, without touching the existing row; invalid_argument for a malformed connection id or
  // channel name; constraint_violation when `gateway` names no gateway.
  virtual result<session> create_session(std::string_view connection_id, std::optional<user_id> user,
                                         std::optional<gateway_id> gateway,
                                         std::span<const std::string> channels = {}) = 0;
  // get_session: the session with this id, or not_found.
  virtual result<session> get_session(session_id id) = 0;
  // find_session: the session with this connection id, or not_found.
  virtual result<session> find_session(std::string_view connection_id) = 0;
  // touch: records one more request on the connection (request_count + 1, last_seen_at = now) in a
  // single statement and returns the updated session; not_found for an unknown connection id.
  virtual result<session> touch(std::string_view connection_id) = 0;

  // join_channel: adds the session to `channel`. Returns true when it joined, false when it was
  // already a member; not_found for an unknown connection id, invalid_argument for a bad name.
  virtual result<bool> join_channel(std::string_view connection_id, std::string_view channel) = 0;
  // leave_channel: removes the session from `channel`. Returns true when it was a member; not_found
  // for an unknown connection id.
  virtual result<bool> leave_channel(std::string_view connection_id, std::string_view channel) = 0;
  // channels_of: the session's channels in name order; not_found for an unknown connection id.
  virtual result<std::vector<std::string>> channels_of(std::string_view connection_id) = 0;

  // mark_disconnected: sets connected = false (and updated_at = now) on every listed session that
  // is still connected, in one statement. Unknown and already-disconnected ids are ignored. Returns
  // how many sessions changed.
  virtual result<std::size_t> mark_disconnected(std::span<const std::string> connection_ids) = 0;
  // mark_gone: what a 410 Gone from PostToConnection may mark: like mark_disconnected, in one
  // statement, but only sessions created before `created_before`. API Gateway also answers 410
  // for a connection whose $connect integration has not returned yet; such a session is younger
  // than the integration timeout, and the caller passes (time the sends started - that timeout),
  // so a session still connecting is never marked (docs/design/dispatch.md, "Gone connections").
  virtual result<std::size_t> mark_gone(std::span<const std::string> connection_ids,
                                        clock::time_point created_before) = 0;
  // delete_disconnected_older_than: deletes disconnected sessions (and their channel memberships)
  // whose updated_at is before `cutoff`. Returns how many sessions were deleted.
  virtual result<std::size_t> delete_disconnected_older_than(clock::time_point cutoff) = 0;

  // count: how many sessions match `q`.
  virtual result<std::int64_t> count(const session_query& q) = 0;
  // page: up to `limit` sessions matching `q` with id > `after_id`, in id order (keyset pagination:
  // pass the last id of one page as `after_id` of the next; start with 0). An empty page means the
  // end. invalid_argument when limit is 0 or above k_max_page_size.
  virtual result<std::vector<session>> page(const session_query& q, session_id after_id, std::size_t limit) = 0;

  // page_visitor: receives one page; returns false to stop the iteration.
  using page_visitor = std::function<bool(std::span<const session>)>;
  // for_each_page: calls `visit` with successive pages of `q` (each at most `page_size` sessions,
  // in id order) until the sessions run out or `visit` returns false. Only one page is in memory at
  // a time. Returns the number of sessions visited, or the first failure.
  result<std::size_t> for_each_page(const session_query& q, std::size_t page_size, const page_visitor& visit);

  // --- gateways ---------------------------------------------------------------------------------

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

  // --- users ------------------------------------------------------------------------------------

  // find_user_id: the id of the built-in user store's user named `username` (what `apigw-ws send
  // --user NAME` targets), or not_found.
  virtual result<user_id> find_user_id(std::string_view username) = 0;
  // create_user: adds a user with this password hash (created_at now). duplicate_key (conflict) when
  // the name is taken; invalid_argument for an empty name or hash.
  virtual result<user> create_user(std::string_view username, std::string_view password_hash) = 0;
  // get_user: the user with this id, or not_found.
  virtual result<user> get_user(user_id id) = 0;
  // find_user: the user named `username`, or not_found.
  virtual result<user> find_user(std::string_view username) = 0;
  // list_users: every user in name order.
  virtual result<std::vector<user>> list_users() = 0;
  // set_password_hash: replaces the user's password hash; not_found for an unknown user.
  virtual result<void> set_password_hash(user_id id, std::string_view password_hash) = 0;
  // grant_permission: gives the user `permission`. Returns true when it was new, false when the
  // user already had it; not_found for an unknown user, invalid_argument for an empty permission.
  virtual result<bool> grant_permission(user_id id, std::string_view permission) = 0;
  // revoke_permission: takes `permission` away. Returns true when the user had it.
  virtual result<bool> revoke_permission(user_id id, std::string_view permission) = 0;
  // permissions_of: the user's permissions in name order (empty for an unknown user).
  virtual result<std::vector<std::string>> permissions_of(user_id id) = 0;
  // permission_generation: a counter that grows whenever grant_permission or revoke_permission
  // changed something through this store object. In-process caches of permissions tag their
  // entries with it and drop entries whose generation is no longer current; changes made through
  // another store object or process are not seen (those caches expire by time instead).
  virtual std::uint64_t permission_generation() const noexcept = 0;

  // --- tokens -----------------------------------------------------------------------------------

  // insert_token: records a one-time connect token by the hash of its value, for `user`, bound to
  // the hash of the user's session key (created_at now, unused). duplicate_key (conflict) when the
  // hash exists; invalid_argument for an empty hash.
  virtual result<void> insert_token(std::string_view token_hash, user_id user, std::string_view session_key_hash) = 0;
  // consume_token: marks the token with this hash used, in one statement, if it is unused, bound to
  // `session_key_hash` and created at or after `not_before`; returns its user. Of any number of
  // concurrent calls with one token, exactly one succeeds. not_found when there is no such usable
  // token (unknown, used, expired or bound to another session; the caller learns nothing more).
  virtual result<user_id> consume_token(std::string_view token_hash, std::string_view session_key_hash,
                                        clock::time_point not_before) = 0;
  // count_tokens_since: how many tokens `user` was issued at or after `since` (the issue rate limit).
  virtual result<std::int64_t> count_tokens_since(user_id user, clock::time_point since) = 0;
  // delete_tokens_older_than: deletes connect tokens (used or not) created before `cutoff`. Returns
  // how many were deleted.
  virtual result<std::size_t> delete_tokens_older_than(clock::time_point cutoff) = 0;

  // --- connection attempts (rate limiting) ------------------------------------------------------

  // record_attempt: logs one $connect attempt from `ip` (and `user` when known) at now, successful
  // or not. invalid_argument for an empty ip.
  virtual result<void> record_attempt(std::string_view ip, std::optional<user_id> user, bool successful) = 0;
  // count_attempts_since: the attempts (successful or not) at or after `since` from `ip` and, when
  // given, by `user`.
  virtual result<attempt_counts> count_attempts_since(std::string_view ip, std::optional<user_id> user,
                                                      clock::time_point since) = 0;
  // delete_attempts_older_than: deletes attempts before `cutoff`. Returns how many were deleted.
  virtual result<std::size_t> delete_attempts_older_than(clock::time_point cutoff) = 0;
};

// open_store: connects to the database named by `db_url` (without migrating it):
//   postgresql://... or postgres://...          PostgreSQL (libpq URL; password allowed)
//   sqlite:PATH, sqlite:///abs/path, or a path  SQLite (the file is created if missing)
// `clk` supplies every stored time and must outlive the store. Fails with unsupported_scheme for any
// other "scheme://" URL, invalid_url for an empty or malformed one, unreachable when the PostgreSQL
// server cannot be reached, database_error when the SQLite file cannot be opened.
result<std::unique_ptr<session_store>> open_store(std::string_view db_url, const clock& clk,
                                                  const store_options& options = {});

}  // namespace apigw::store
