// apigw/store/login_store.hpp: what the built-in login needs from the store beyond users: failed
// logins (per user name and per client address, for the login limits) and revoked browser sessions
// (so a logged-out cookie stops working on the server, not only in the browser).
//
// Like the rest of the store it is synchronous, thread-safe and returns failures instead of
// throwing; both SQL stores implement it over the tables of schema version 2.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace apigw::store {

// login_failure_counts: the failed logins at or after a time, for one user name and one address,
// with the time of the newest of each (the epoch when there is none).
struct login_failure_counts {
  std::int64_t by_user = 0;
  clock::time_point last_by_user{};
  std::int64_t by_address = 0;
  clock::time_point last_by_address{};
};

// login_store: see the file comment.
class login_store {
 public:
  virtual ~login_store() = default;

  // record_login_failure: logs one failed login for `username` (as typed: unknown names count too,
  // so they cannot be told apart from known ones) from `address` at now, and deletes the failures
  // older than `prune_before` in the same call, so the table holds one window's worth and no more.
  // invalid_argument for an empty address.
  virtual result<void> record_login_failure(std::string_view username, std::string_view address,
                                            clock::time_point prune_before) = 0;
  // login_failures_since: the failures at or after `since` by `username` and from `address`.
  virtual result<login_failure_counts> login_failures_since(std::string_view username, std::string_view address,
                                                            clock::time_point since) = 0;
  // clear_login_failures: forgets `username`'s failures (after a successful login; the address's
  // failures stay, so one good account does not reset an address that guesses at others). Returns
  // how many were deleted.
  virtual result<std::size_t> clear_login_failures(std::string_view username) = 0;

  // revoke_session: records that the browser session whose key hashes to `session_key_hash` ended
  // (logout) until `expires_at` (the cookie's own expiry: after it the cookie is refused anyway),
  // and deletes that session's unused connect tokens. Revocations already expired are deleted in
  // the same call. Revoking twice is not an error. invalid_argument for an empty hash.
  virtual result<void> revoke_session(std::string_view session_key_hash, clock::time_point expires_at) = 0;
  // is_session_revoked: whether the session with this key hash was revoked.
  virtual result<bool> is_session_revoked(std::string_view session_key_hash) = 0;
};

}  // namespace apigw::store
