// apigw/store/user_repository.hpp: the users slice of the store: the built-in user store (users)
// and its permissions (user_permissions), for the examples, the CLI and builtin_authenticator.
//
// Part of session_store (session_store.hpp). Applications with their own user system never need
// it. Thread-safe and blocking; members return a failure instead of throwing.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/store/error.hpp"
#include "apigw/store/records.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::store {

// user_repository: users and user_permissions (see the file comment).
class user_repository {
 public:
  virtual ~user_repository() = default;

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
};

}  // namespace apigw::store
