// The users slice of the SQL store: the built-in users, their password hashes and permissions,
// and the permission generation in-process caches check.
#include "store/sql_store.hpp"

#include "store/sql_common.hpp"

#include <fmt/format.h>

namespace apigw::store::detail {
namespace {

user read_user(const rows& r, std::size_t i) {
  user u;
  u.id = cell_int(r, i, 0);
  u.username = cell_text(r, i, 1);
  u.password_hash = cell_text(r, i, 2);
  u.created_at = from_unix_millis(cell_int(r, i, 3));
  return u;
}

}  // namespace

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

}  // namespace apigw::store::detail
