// session_store in SQL, shared by both databases. Each operation is one statement where it can be
// (touch, join, leave, mark_disconnected, deletes); the few that write several rows run in one
// transaction that is rolled back on any failure, so a failed call changes nothing.
#include "store/sql_store.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/core/json.hpp"
#include "store/schema.hpp"

#include <fmt/format.h>
#include <algorithm>

#include <type_traits>
#include <utility>

namespace apigw::store::detail {
namespace {

session read_session(const rows& r, std::size_t i) {
  session s;
  s.id = cell_int(r, i, 0);
  s.connection_id = cell_text(r, i, 1);
  s.user = cell_opt_int(r, i, 2);
  s.connected = cell_bool(r, i, 3);
  s.gateway = cell_opt_int(r, i, 4);
  s.request_count = cell_int(r, i, 5);
  s.created_at = from_unix_millis(cell_int(r, i, 6));
  s.updated_at = from_unix_millis(cell_int(r, i, 7));
  s.last_seen_at = from_unix_millis(cell_int(r, i, 8));
  return s;
}

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

user read_user(const rows& r, std::size_t i) {
  user u;
  u.id = cell_int(r, i, 0);
  u.username = cell_text(r, i, 1);
  u.password_hash = cell_text(r, i, 2);
  u.created_at = from_unix_millis(cell_int(r, i, 3));
  return u;
}

param optional_param(const std::optional<std::int64_t>& v) {
  return v ? param{*v} : param{nullptr};
}

result<void> check_connection_id(std::string_view connection_id) {
  if (!is_valid_connection_id(connection_id)) {
    return failure{error::invalid_argument,
                   fmt::format("invalid connection id '{}': expected 1-{} characters of [A-Za-z0-9_=+/-]",
                               connection_id.substr(0, k_max_connection_id_length), k_max_connection_id_length)};
  }
  return ok();
}

result<void> check_channel(std::string_view channel) {
  if (channel.empty() || channel.size() > k_max_channel_length || !is_valid_utf8(channel)) {
    return failure{error::invalid_argument, fmt::format("invalid channel name ({} bytes): expected 1-{} bytes of UTF-8",
                                                        channel.size(), k_max_channel_length)};
  }
  return ok();
}

failure session_not_found(std::string_view connection_id) {
  return {error::not_found, fmt::format("no session with connection id '{}'", connection_id)};
}

// with_connection: runs `f(connection&)` on a leased connection.
template <class F>
auto with_connection(database& db, F&& f) -> std::invoke_result_t<F, connection&> {
  auto lease = db.acquire();
  if (!lease) return lease.error();
  return std::forward<F>(f)(**lease);
}

// in_transaction: runs `f()` between begin and commit; rolls back when `f` or the commit fails.
template <class F>
auto in_transaction(connection& c, F&& f) -> std::invoke_result_t<F> {
  if (auto b = c.begin(); !b) return b.error();
  auto r = std::forward<F>(f)();
  if (!r) {
    c.rollback();
    return r;
  }
  if (auto committed = c.commit(); !committed) {
    c.rollback();
    return committed.error();
  }
  return r;
}

}  // namespace

store::backend sql_store::kind() const noexcept {
  return db_->kind() == dialect::sqlite ? backend::sqlite : backend::postgresql;
}

std::string sql_store::location() const {
  return db_->location();
}

result<int> sql_store::schema_version() {
  return with_connection(*db_, [&](connection& c) -> result<int> {
    auto has = c.exec(db_->kind() == dialect::sqlite ? sql::sqlite_has_schema_version : sql::pg_has_schema_version, {});
    if (!has) return has.error();
    if (cell_int(*has, 0, 0) == 0) return 0;
    auto version = c.exec(sql::schema_version_max, {});
    if (!version) return version.error();
    return static_cast<int>(cell_int(*version, 0, 0));
  });
}

result<migration_outcome> sql_store::migrate() {
  const auto d = db_->kind();
  return with_connection(*db_, [&](connection& c) {
    return in_transaction(c, [&]() -> result<migration_outcome> {
      if (d == dialect::postgresql) {
        if (auto locked = c.run(sql::pg_migration_lock, {}); !locked) return locked.error();
      }
      if (auto created = c.run(k_create_schema_version, {}); !created) return created.error();
      auto current = c.run(sql::schema_version_max, {});
      if (!current) return current.error();
      migration_outcome outcome;
      outcome.from_version = static_cast<int>(cell_int(*current, 0, 0));
      if (outcome.from_version > k_schema_version) {
        return failure{error::schema_too_new,
                       fmt::format("database {} has schema version {}; this program knows versions up to {}",
                                   db_->location(), outcome.from_version, k_schema_version)};
      }
      const auto now = unix_millis(clock_.now());
      for (const auto& m : migrations()) {
        if (m.version <= outcome.from_version) continue;
        for (const auto& step : m.steps) {
          if (auto r = c.run(step_sql(step, d), {}); !r) return r.error();
        }
        const param params[] = {std::int64_t{m.version}, std::string{m.description}, now};
        if (auto r = c.run(sql::insert_schema_version, params); !r) return r.error();
      }
      outcome.to_version = k_schema_version;
      return outcome;
    });
  });
}

result<session> sql_store::create_session(std::string_view connection_id, std::optional<user_id> user,
                                          std::optional<gateway_id> gateway, std::span<const std::string> channels) {
  if (auto r = check_connection_id(connection_id); !r) return r.error();
  for (const auto& ch : channels) {
    if (auto r = check_channel(ch); !r) return r.error();
  }
  const auto now = unix_millis(clock_.now());
  auto insert = [&](connection& c) -> result<session> {
    const param params[] = {std::string{connection_id}, optional_param(user), optional_param(gateway), now};
    auto r = c.exec(sql::insert_session, params);
    if (!r) {
      if (r.error() == error::constraint_violation && gateway) {
        return failure{error::constraint_violation,
                       fmt::format("cannot create session '{}': gateway {} does not exist", connection_id, *gateway)};
      }
      return r.error();
    }
    if (r->empty()) {
      return failure{error::duplicate_connection_id,
                     fmt::format("connection id '{}' is already in use; the existing session was kept", connection_id)};
    }
    auto created = read_session(*r, 0);
    for (const auto& ch : channels) {
      const param channel_params[] = {created.id, ch, now};
      if (auto joined = c.exec(sql::insert_channel, channel_params); !joined) return joined.error();
    }
    return created;
  };
  return with_connection(*db_, [&](connection& c) -> result<session> {
    if (channels.empty()) return insert(c);  // one statement: atomic without a transaction
    return in_transaction(c, [&] { return insert(c); });
  });
}

result<session> sql_store::get_session(session_id id) {
  return with_connection(*db_, [&](connection& c) -> result<session> {
    const param params[] = {id};
    auto r = c.exec(sql::session_by_id, params);
    if (!r) return r.error();
    if (r->empty()) return failure{error::not_found, fmt::format("no session with id {}", id)};
    return read_session(*r, 0);
  });
}

result<session> sql_store::find_session(std::string_view connection_id) {
  return with_connection(*db_, [&](connection& c) -> result<session> {
    const param params[] = {std::string{connection_id}};
    auto r = c.exec(sql::session_by_connection_id, params);
    if (!r) return r.error();
    if (r->empty()) return session_not_found(connection_id);
    return read_session(*r, 0);
  });
}

result<session> sql_store::touch(std::string_view connection_id) {
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<session> {
    const param params[] = {std::string{connection_id}, now};
    auto r = c.exec(sql::touch, params);
    if (!r) return r.error();
    if (r->empty()) return session_not_found(connection_id);
    return read_session(*r, 0);
  });
}

result<bool> sql_store::join_channel(std::string_view connection_id, std::string_view channel) {
  if (auto r = check_channel(channel); !r) return r.error();
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<bool> {
    const param params[] = {std::string{connection_id}, std::string{channel}, now};
    auto r = c.exec(sql::join_channel, params);
    if (!r) return r.error();
    if (r->affected > 0) return true;
    // Nothing inserted: either already a member or no such session.
    const param lookup[] = {std::string{connection_id}};
    auto exists = c.exec(sql::session_exists, lookup);
    if (!exists) return exists.error();
    if (exists->empty()) return session_not_found(connection_id);
    return false;
  });
}

result<bool> sql_store::leave_channel(std::string_view connection_id, std::string_view channel) {
  return with_connection(*db_, [&](connection& c) -> result<bool> {
    const param params[] = {std::string{connection_id}, std::string{channel}};
    auto r = c.exec(sql::leave_channel, params);
    if (!r) return r.error();
    if (r->affected > 0) return true;
    const param lookup[] = {std::string{connection_id}};
    auto exists = c.exec(sql::session_exists, lookup);
    if (!exists) return exists.error();
    if (exists->empty()) return session_not_found(connection_id);
    return false;
  });
}

result<std::vector<std::string>> sql_store::channels_of(std::string_view connection_id) {
  return with_connection(*db_, [&](connection& c) -> result<std::vector<std::string>> {
    const param params[] = {std::string{connection_id}};
    auto r = c.exec(sql::channels_of, params);
    if (!r) return r.error();
    if (r->empty()) return session_not_found(connection_id);
    std::vector<std::string> channels;
    for (std::size_t i = 0; i < r->size(); ++i) {
      if (r->at(i, 1)) channels.push_back(*r->at(i, 1));
    }
    return channels;
  });
}

result<std::size_t> sql_store::mark_disconnected(std::span<const std::string> connection_ids) {
  if (connection_ids.empty()) return std::size_t{0};
  const auto st = mark_disconnected_statement(db_->kind(), connection_ids, unix_millis(clock_.now()));
  return with_connection(*db_, [&](connection& c) -> result<std::size_t> {
    auto r = c.exec(st.sql, st.params);
    if (!r) return r.error();
    return static_cast<std::size_t>(r->affected);
  });
}

result<std::size_t> sql_store::mark_gone(std::span<const std::string> connection_ids,
                                         clock::time_point created_before) {
  if (connection_ids.empty()) return std::size_t{0};
  const auto st =
      mark_disconnected_statement(db_->kind(), connection_ids, unix_millis(clock_.now()), unix_millis(created_before));
  return with_connection(*db_, [&](connection& c) -> result<std::size_t> {
    auto r = c.exec(st.sql, st.params);
    if (!r) return r.error();
    return static_cast<std::size_t>(r->affected);
  });
}

result<std::size_t> sql_store::delete_disconnected_older_than(clock::time_point cutoff) {
  return with_connection(*db_, [&](connection& c) -> result<std::size_t> {
    const param params[] = {unix_millis(cutoff)};
    auto r = c.exec(sql::delete_disconnected, params);
    if (!r) return r.error();
    return static_cast<std::size_t>(r->affected);
  });
}

result<std::int64_t> sql_store::count(const session_query& q) {
  const auto st = count_statement(q);
  return with_connection(*db_, [&](connection& c) -> result<std::int64_t> {
    auto r = c.exec(st.sql, st.params);
    if (!r) return r.error();
    return cell_int(*r, 0, 0);
  });
}

result<std::vector<session>> sql_store::page(const session_query& q, session_id after_id, std::size_t limit) {
  if (limit == 0 || limit > k_max_page_size) {
    return failure{error::invalid_argument,
                   fmt::format("page size {} is out of range: expected 1-{}", limit, k_max_page_size)};
  }
  const auto st = page_statement(q, after_id, limit);
  return with_connection(*db_, [&](connection& c) -> result<std::vector<session>> {
    auto r = c.exec(st.sql, st.params);
    if (!r) return r.error();
    std::vector<session> sessions;
    sessions.reserve(r->size());
    for (std::size_t i = 0; i < r->size(); ++i) sessions.push_back(read_session(*r, i));
    return sessions;
  });
}

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

result<user_id> sql_store::find_user_id(std::string_view username) {
  return with_connection(*db_, [&](connection& c) -> result<user_id> {
    const param params[] = {std::string{username}};
    auto r = c.exec(sql::user_by_name, params);
    if (!r) return r.error();
    if (r->empty()) return failure{error::not_found, fmt::format("no user named '{}'", username)};
    return cell_int(*r, 0, 0);
  });
}

result<user> sql_store::create_user(std::string_view username, std::string_view password_hash) {
  if (username.empty() || password_hash.empty()) {
    return failure{error::invalid_argument, "a user needs a name and a password hash"};
  }
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<user> {
    const param params[] = {std::string{username}, std::string{password_hash}, now};
    auto r = c.exec(sql::insert_user, params);
    if (!r) {
      if (r.error() == error::duplicate_key) {
        return failure{error::duplicate_key, fmt::format("a user named '{}' already exists", username)};
      }
      return r.error();
    }
    return read_user(*r, 0);
  });
}

result<user> sql_store::get_user(user_id id) {
  return with_connection(*db_, [&](connection& c) -> result<user> {
    const param params[] = {id};
    auto r = c.exec(sql::user_by_id, params);
    if (!r) return r.error();
    if (r->empty()) return failure{error::not_found, fmt::format("no user with id {}", id)};
    return read_user(*r, 0);
  });
}

result<user> sql_store::find_user(std::string_view username) {
  return with_connection(*db_, [&](connection& c) -> result<user> {
    const param params[] = {std::string{username}};
    auto r = c.exec(sql::user_row_by_name, params);
    if (!r) return r.error();
    if (r->empty()) return failure{error::not_found, fmt::format("no user named '{}'", username)};
    return read_user(*r, 0);
  });
}

result<std::vector<user>> sql_store::list_users() {
  return with_connection(*db_, [&](connection& c) -> result<std::vector<user>> {
    auto r = c.exec(sql::all_users, {});
    if (!r) return r.error();
    std::vector<user> users;
    for (std::size_t i = 0; i < r->size(); ++i) users.push_back(read_user(*r, i));
    return users;
  });
}

result<void> sql_store::set_password_hash(user_id id, std::string_view password_hash) {
  if (password_hash.empty()) return failure{error::invalid_argument, "a password hash cannot be empty"};
  return with_connection(*db_, [&](connection& c) -> result<void> {
    const param params[] = {id, std::string{password_hash}};
    auto r = c.exec(sql::set_password_hash, params);
    if (!r) return r.error();
    if (r->affected == 0) return failure{error::not_found, fmt::format("no user with id {}", id)};
    return ok();
  });
}

result<bool> sql_store::grant_permission(user_id id, std::string_view permission) {
  if (permission.empty()) return failure{error::invalid_argument, "a permission cannot be empty"};
  return with_connection(*db_, [&](connection& c) -> result<bool> {
    const param params[] = {id, std::string{permission}};
    auto r = c.exec(sql::grant_permission, params);
    if (!r) {
      if (r.error() == error::constraint_violation) {
        return failure{error::not_found, fmt::format("no user with id {}", id)};
      }
      return r.error();
    }
    // Bumped after the change is committed: a cache that read the generation before its query
    // can only tag fresh data with an old generation (dropped later), never stale data with the
    // new one.
    if (r->affected > 0) permission_generation_.fetch_add(1);
    return r->affected > 0;
  });
}

result<bool> sql_store::revoke_permission(user_id id, std::string_view permission) {
  return with_connection(*db_, [&](connection& c) -> result<bool> {
    const param params[] = {id, std::string{permission}};
    auto r = c.exec(sql::revoke_permission, params);
    if (!r) return r.error();
    if (r->affected > 0) permission_generation_.fetch_add(1);
    return r->affected > 0;
  });
}

result<std::vector<std::string>> sql_store::permissions_of(user_id id) {
  return with_connection(*db_, [&](connection& c) -> result<std::vector<std::string>> {
    const param params[] = {id};
    auto r = c.exec(sql::permissions_of, params);
    if (!r) return r.error();
    std::vector<std::string> permissions;
    for (std::size_t i = 0; i < r->size(); ++i) permissions.push_back(cell_text(*r, i, 0));
    return permissions;
  });
}

result<void> sql_store::insert_token(std::string_view token_hash, user_id user, std::string_view session_key_hash) {
  if (token_hash.empty() || session_key_hash.empty()) {
    return failure{error::invalid_argument, "a token needs a hash and a session key hash"};
  }
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<void> {
    const param params[] = {std::string{token_hash}, user, std::string{session_key_hash}, now};
    auto r = c.exec(sql::insert_token, params);
    if (!r) return r.error();
    return ok();
  });
}

result<user_id> sql_store::consume_token(std::string_view token_hash, std::string_view session_key_hash,
                                         clock::time_point not_before) {
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<user_id> {
    const param params[] = {std::string{token_hash}, std::string{session_key_hash}, unix_millis(not_before), now};
    auto r = c.exec(sql::consume_token, params);
    if (!r) return r.error();
    if (r->empty()) return failure{error::not_found, "no usable token (unknown, used, expired or another session's)"};
    return cell_int(*r, 0, 0);
  });
}

result<std::int64_t> sql_store::count_tokens_since(user_id user, clock::time_point since) {
  return with_connection(*db_, [&](connection& c) -> result<std::int64_t> {
    const param params[] = {user, unix_millis(since)};
    auto r = c.exec(sql::count_tokens_since, params);
    if (!r) return r.error();
    return cell_int(*r, 0, 0);
  });
}

result<void> sql_store::record_attempt(std::string_view ip, std::optional<user_id> user, bool successful) {
  if (ip.empty()) return failure{error::invalid_argument, "a connection attempt needs an IP address"};
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<void> {
    const param params[] = {std::string{ip}, optional_param(user), now, successful};
    auto r = c.exec(sql::insert_attempt, params);
    if (!r) return r.error();
    return ok();
  });
}

result<attempt_counts> sql_store::count_attempts_since(std::string_view ip, std::optional<user_id> user,
                                                       clock::time_point since) {
  const auto since_ms = unix_millis(since);
  return with_connection(*db_, [&](connection& c) -> result<attempt_counts> {
    attempt_counts counts;
    const param by_ip[] = {std::string{ip}, since_ms};
    auto r = c.exec(sql::count_attempts_ip, by_ip);
    if (!r) return r.error();
    counts.by_ip = cell_int(*r, 0, 0);
    if (user) {
      const param by_user[] = {*user, since_ms};
      auto u = c.exec(sql::count_attempts_user, by_user);
      if (!u) return u.error();
      counts.by_user = cell_int(*u, 0, 0);
    }
    return counts;
  });
}

result<std::size_t> sql_store::delete_attempts_older_than(clock::time_point cutoff) {
  return with_connection(*db_, [&](connection& c) -> result<std::size_t> {
    const param params[] = {unix_millis(cutoff)};
    auto r = c.exec(sql::delete_attempts, params);
    if (!r) return r.error();
    return static_cast<std::size_t>(r->affected);
  });
}

result<std::size_t> sql_store::delete_tokens_older_than(clock::time_point cutoff) {
  return with_connection(*db_, [&](connection& c) -> result<std::size_t> {
    const param params[] = {unix_millis(cutoff)};
    auto r = c.exec(sql::delete_tokens, params);
    if (!r) return r.error();
    return static_cast<std::size_t>(r->affected);
  });
}

result<std::vector<std::string>> sql_store::explain(const statement& st) {
  const bool sqlite = db_->kind() == dialect::sqlite;
  return with_connection(*db_, [&](connection& c) -> result<std::vector<std::string>> {
    auto r = c.run((sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ") + st.sql, st.params);
    if (!r) return r.error();
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < r->size(); ++i) lines.push_back(cell_text(*r, i, sqlite ? 3 : 0));
    return lines;
  });
}

result<rows> sql_store::execute(const statement& st) {
  return with_connection(*db_, [&](connection& c) { return c.run(st.sql, st.params); });
}

}  // namespace apigw::store::detail
