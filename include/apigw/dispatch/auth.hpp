// apigw/dispatch/auth.hpp: who is behind a request, and what they may do.
//
// An `authenticator` turns the cookies and headers of a request into an `identity` (anonymous
// when there are none) and loads the identity of a stored session's user. Applications with their
// own user system implement it; `builtin_authenticator` is the one the examples and the CLI use:
// users in the store's users table with Argon2id password hashes (libsodium), and signed session
// cookies issued by a login endpoint, limited per user name and per client address, hashed on a
// small bounded pool of its own, and revoked on the server at logout. Permission lists
// (`permission_rule`) are checked against the identity's permissions.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/core/log.hpp"
#include "apigw/dispatch/http.hpp"
#include "apigw/store/login_store.hpp"
#include "apigw/store/records.hpp"
#include "apigw/store/user_repository.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::store {
class session_store;
}  // namespace apigw::store

namespace apigw::dispatch {

namespace detail {
class identity_cache;
class worker_pool;
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

// login_limits: how many failed logins a user name and a client address may have within `window`
// before they are locked out. The lockout starts at `first_lockout` after the failure that reached
// the threshold and doubles with each further failure, up to `max_lockout` (so a name guessed at
// forever gets one try per `max_lockout`). Failures while locked out are refused without checking
// the password and are not counted.
struct login_limits {
  std::int64_t max_user_failures = 5;
  std::int64_t max_address_failures = 20;
  std::chrono::seconds window{15 * 60};
  std::chrono::seconds first_lockout{60};
  std::chrono::seconds max_lockout{15 * 60};
};

// login_lockout: how long a key (a user name or an address) with `failures` failures in the window,
// the newest at `last`, must still wait at `now` before it may try again; zero when it may try now
// (below `threshold`, or the lockout is over). Whole seconds, rounded up, so a client that waits
// the Retry-After it was given is never refused again for the same lockout.
std::chrono::seconds login_lockout(std::int64_t failures, std::int64_t threshold, clock::time_point last,
                                   clock::time_point now, const login_limits& limits) noexcept;

// same_site: the SameSite attribute of the session cookie.
enum class same_site {
  strict,  // sent on same-site requests only (not on a link followed from another site)
  lax,     // also on top-level navigations from other sites (the default)
  none,    // also on cross-site requests: a page on another site fetching the token (needs Secure)
};

// same_site_name: "Strict", "Lax", "None", as in the Set-Cookie attribute.
std::string_view same_site_name(same_site s) noexcept;

// builtin_auth_options: cookie names, lifetime, the CSRF header, the login limits and the hashing
// pool.
struct builtin_auth_options {
  std::string session_cookie = "apigw_session";
  std::string csrf_header = "X-CSRF-Token";
  std::chrono::seconds session_lifetime{std::chrono::hours{24 * 14}};
  bool secure_cookie = true;  // the Secure attribute (turn off only for plain-http local development)
  // cookie_same_site: Lax by default. A page on another site that fetches the token with
  // credentials: 'include' (and is listed in server_options::cors) needs None, which browsers
  // accept only with Secure: None without secure_cookie is refused (check_auth_options). Pages on
  // another port or subdomain of the same site work with Lax.
  same_site cookie_same_site = same_site::lax;
  bool fast_hashing = false;  // minimum Argon2id cost (tests only)
  // identity_cache_ttl: how long for_user keeps a user's identity (name and permissions) in this
  // process, so a burst of messages from one user costs one lookup instead of two per message.
  // A grant or revoke through this process's store is seen on the next request; one made by
  // another process (the CLI, another backend) takes effect within this time. Zero: no cache.
  std::chrono::milliseconds identity_cache_ttl{5000};
  // identity_cache_capacity: most users cached; when full, expired entries go, then all of them.
  std::size_t identity_cache_capacity = 10'000;
  // limits: the login limits (see login_limits).
  login_limits limits;
  // hashing_queue: logins that may wait for the one hashing thread (Argon2id costs 64 MiB and tens
  // of milliseconds each); further ones are answered 503 at once, so a login flood costs a bounded
  // amount of memory and CPU and never delays pages or tokens.
  std::size_t hashing_queue = 8;
  // login_proxy_hops: where login_response finds the client address it limits: 0 (the default) is
  // the TCP peer; N trusts N proxies in front of the server and takes the X-Forwarded-For entry N
  // from the right (see client_ip). Behind a proxy, leaving this 0 makes every client share the
  // proxy's address and its limit.
  std::size_t login_proxy_hops = 0;
};

// check_auth_options: invalid_argument when the options cannot work: SameSite=None without Secure
// (browsers drop such a cookie, so nobody could stay logged in). backend_server::start() and
// builtin_authenticator::login() refuse such options.
result<void> check_auth_options(const builtin_auth_options& options);

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
  // hashing, never used raw). It takes two slices of the store: users (accounts, permissions) and
  // logins (failed attempts, revoked cookies). The slices and `clk` must outlive it.
  builtin_authenticator(store::user_repository& users, store::login_store& logins, const clock& clk,
                        std::string_view secret, builtin_auth_options options = {});
  // builtin_authenticator: both slices from one whole store (what wiring code usually has).
  builtin_authenticator(store::session_store& store, const clock& clk, std::string_view secret,
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
  // login: checks the login limits and the password and issues a session cookie, on the calling
  // thread. rate_limited while the name or the address is locked out (retry_after, when given, is
  // set to the seconds to wait); bad_credentials for an unknown user or a wrong password (the same
  // code and timing-relevant work for both; the failure is recorded against both the name and the
  // address). Calls without an address share the address "local".
  result<login_result> login(std::string_view username, std::string_view password, std::string_view address = {},
                             std::chrono::seconds* retry_after = nullptr);
  // login_response: the login endpoint for one request (POST; JSON or form body with username and
  // password; the client address is the request's remote address), on the calling thread:
  // 200 {"username", "csrf_token"} with Set-Cookie, 401 "Invalid credentials", 429 with Retry-After
  // when locked out, 405 for another method, 503 when the store fails.
  response login_response(const request& req);
  // async_login: login_response on the hashing pool, its answer handed to `done` on that pool's
  // thread. When the pool's queue is full (or the authenticator is being destroyed) `done` is
  // called at once, on the calling thread, with 503 and Retry-After, and `log` gets a warn line
  // ("login refused: hashing queue full"); a 503 from a failing store gets an error line. Never
  // blocks.
  void async_login(request req, std::function<void(response)> done, const logging::logger& log = {});
  // logout: revokes the session of the request's cookie in the store (see
  // store::login_store::revoke_session), so the cookie no longer identifies anyone even if the
  // browser keeps it, and the tokens it fetched but did not use are gone. A request without a
  // valid cookie has nothing to revoke (ok). Fails only when the store does.
  result<void> logout(const request& req);
  // logout_cookie: a Set-Cookie value that clears the session cookie.
  std::string logout_cookie() const;
  // csrf_token: the CSRF token of a session key.
  std::string csrf_token(std::string_view session_key) const;

  const builtin_auth_options& options() const noexcept { return options_; }

 private:
  struct cookie_fields;
  std::string mac(std::string_view data) const;
  std::optional<cookie_fields> verified_cookie(const request& req) const;
  result<identity> load_user(store::user_id user);
  detail::worker_pool* hashing_pool();
  store::user_repository& users_;
  store::login_store& logins_;
  const clock& clock_;
  std::string key_;
  builtin_auth_options options_;
  std::string dummy_hash_;
  std::unique_ptr<detail::identity_cache> cache_;
  std::mutex pool_mutex_;
  std::unique_ptr<detail::worker_pool> pool_;  // started by the first async_login
};

}  // namespace apigw::dispatch
