// apigw/dispatch/auth.hpp: who is behind a request, and what they may do.
//
// An `authenticator` turns the cookies and headers of a request into an `identity` (anonymous
// when there are none) and loads the identity of a stored session's user. Applications with their
// own user system implement it; `builtin_authenticator` is the one the examples and the CLI use:
// users in the store's users table with Argon2id password hashes (libsodium), and signed session
// cookies issued by a login endpoint. Permission lists (`permission_rule`) are checked against the
// identity's permissions.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/dispatch/http.hpp"
#include "apigw/store/records.hpp"
#include "apigw/store/user_repository.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::dispatch {

namespace detail {
class identity_cache;
}  // namespace detail

// identity: a user (or nobody) and their permissions.
struct identity {
  std::optional<store::user_id> user;    // empty: anonymous
  std::string username;                  // empty when anonymous or unknown
  std::vector<std::string> permissions;  // sorted
  std::string session_key;               // the browser session's key; empty when there is none

  // authenticated: there is a user.
  bool authenticated() const noexcept { return user.has_value(); }
  // has_permission: the user holds `permission`.
  bool has_permission(std::string_view permission) const noexcept;
};

// permission_rule: what a view or handler requires. `all_of` must all be held; when `any_of` is
// non-empty at least one of it must be held. The empty rule allows everyone, anonymous included.
struct permission_rule {
  std::vector<std::string> any_of;
  std::vector<std::string> all_of;

  // permits: whether `who` satisfies the rule.
  bool permits(const identity& who) const noexcept;
  bool empty() const noexcept { return any_of.empty() && all_of.empty(); }
};

// authenticator: see the file comment. Implementations must be thread-safe.
class authenticator {
 public:
  virtual ~authenticator() = default;
  // from_request: the identity behind a request's credentials (cookies, headers); anonymous when it
  // carries none or only invalid ones. Fails only when the lookup itself fails (store unavailable).
  virtual result<identity> from_request(const request& req) = 0;
  // for_user: the identity of a stored session's user (no session key). not_found for an unknown
  // user; the store's failure otherwise.
  virtual result<identity> for_user(store::user_id user) = 0;
  // csrf_ok: whether a state-changing browser request (the token endpoint) carries proof that it
  // came from the application's own pages. The default refuses everything.
  virtual bool csrf_ok(const request& req, const identity& who);
};

// hash_password: an Argon2id hash string ("$argon2id$v=19$m=...") of `password`, with libsodium's
// "interactive" cost unless `fast` (tests: the minimum cost). crypto_failure when libsodium fails
// (out of memory).
result<std::string> hash_password(std::string_view password, bool fast = false);

// verify_password: whether `password` matches `hash` (false for a malformed hash too).
bool verify_password(std::string_view hash, std::string_view password) noexcept;

// builtin_auth_options: cookie names, lifetime, the CSRF header.
struct builtin_auth_options {
  std::string session_cookie = "apigw_session";
  std::string csrf_header = "X-CSRF-Token";
  std::chrono::seconds session_lifetime{std::chrono::hours{24 * 14}};
  bool secure_cookie = true;  // the Secure attribute (turn off only for plain-http local development)
  bool fast_hashing = false;  // minimum Argon2id cost (tests only)
  // identity_cache_ttl: how long for_user keeps a user's identity (name and permissions) in this
  // process, so a burst of messages from one user costs one lookup instead of two per message.
  // A grant or revoke through this process's store is seen on the next request; one made by
  // another process (the CLI, another backend) takes effect within this time. Zero: no cache.
  std::chrono::milliseconds identity_cache_ttl{5000};
  // identity_cache_capacity: most users cached; when full, expired entries go, then all of them.
  std::size_t identity_cache_capacity = 10'000;
};

// login_result: what the login endpoint hands back: the Set-Cookie value and the CSRF token the
// page sends in `csrf_header` on state-changing requests.
struct login_result {
  identity who;
  std::string set_cookie;
  std::string csrf_token;
};

// builtin_authenticator: users from the store; session cookies "<user>.<expiry>.<key>.<mac>" where
// mac = HMAC-SHA256(secret, "<user>.<expiry>.<key>") and key is 32 random hex characters (the
// session key tokens are bound to). The CSRF token is HMAC-SHA256(secret, "csrf." + key), so it is
// tied to the session without any server-side state.
class builtin_authenticator final : public authenticator {
 public:
  // builtin_authenticator: `secret` signs cookies (at least 32 bytes; shorter secrets are padded by
  // hashing, never used raw). `store` and `clk` must outlive it.
  builtin_authenticator(store::user_repository& store, const clock& clk, std::string_view secret,
                        builtin_auth_options options = {});
  ~builtin_authenticator() override;
  builtin_authenticator(const builtin_authenticator&) = delete;
  builtin_authenticator& operator=(const builtin_authenticator&) = delete;

  result<identity> from_request(const request& req) override;
  // for_user: the user's identity, from the identity cache when it holds a current entry (see
  // builtin_auth_options::identity_cache_ttl), else from the store (get_user, permissions_of).
  result<identity> for_user(store::user_id user) override;
  bool csrf_ok(const request& req, const identity& who) override;

  // forget: drops `user`'s cached identity (for permission changes the store cannot see, e.g. an
  // application's own roles). forget_all: drops every cached identity.
  void forget(store::user_id user);
  void forget_all();

  // add_user: creates a user with a hashed password. conflict when the name is taken.
  result<store::user> add_user(std::string_view username, std::string_view password);
  // login: checks the password and issues a session cookie. bad_credentials for an unknown user or
  // a wrong password (the same code and timing-relevant work for both).
  result<login_result> login(std::string_view username, std::string_view password);
  // logout_cookie: a Set-Cookie value that clears the session cookie.
  std::string logout_cookie() const;
  // csrf_token: the CSRF token of a session key.
  std::string csrf_token(std::string_view session_key) const;

  const builtin_auth_options& options() const noexcept { return options_; }

 private:
  std::string mac(std::string_view data) const;
  result<identity> load_user(store::user_id user);
  store::user_repository& store_;
  const clock& clock_;
  std::string key_;
  builtin_auth_options options_;
  std::string dummy_hash_;
  std::unique_ptr<detail::identity_cache> cache_;
};

}  // namespace apigw::dispatch
