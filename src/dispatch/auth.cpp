// Identities, permission rules, password hashing (Argon2id) and the built-in cookie authenticator.
#include "apigw/dispatch/auth.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/core/json.hpp"
#include "apigw/dispatch/checks.hpp"
#include "apigw/dispatch/error.hpp"
#include "apigw/sigv4/hash.hpp"
#include "apigw/store/session_store.hpp"
#include "dispatch/identity_cache.hpp"
#include "dispatch/worker_pool.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <utility>

namespace apigw::dispatch {
namespace {

bool parse_i64(std::string_view s, std::int64_t& out) noexcept {
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

// split4: "a.b.c.d" -> four parts; false for any other number of parts.
bool split4(std::string_view s, std::string_view (&parts)[4]) noexcept {
  for (int i = 0; i < 3; ++i) {
    const auto dot = s.find('.');
    if (dot == std::string_view::npos) return false;
    parts[i] = s.substr(0, dot);
    s = s.substr(dot + 1);
  }
  if (s.find('.') != std::string_view::npos) return false;
  parts[3] = s;
  return true;
}

// credentials_of: username and password from a JSON or form-encoded login body.
std::pair<std::string, std::string> credentials_of(const request& req) {
  if (auto obj = parse_json_object(req.body); obj) {
    return {std::string{get_string(*obj, "username").value_or("")},
            std::string{get_string(*obj, "password").value_or("")}};
  }
  request form;
  form.query = req.body;
  return {form.query_value("username").value_or(""), form.query_value("password").value_or("")};
}

// address_of: the host of a remote address "host:port" (IPv6 hosts are not bracketed, so the port
// is what follows the last colon); the whole text when there is no port.
std::string_view address_of(std::string_view remote) noexcept {
  const auto colon = remote.rfind(':');
  return colon == std::string_view::npos ? remote : remote.substr(0, colon);
}

// with_retry_after: `r` with a Retry-After of `seconds` (at least 1).
response with_retry_after(response r, std::chrono::seconds seconds) {
  r.headers.push_back({"Retry-After", std::to_string(std::max<std::int64_t>(1, seconds.count()))});
  return r;
}

}  // namespace

// cookie_fields: the parts of a session cookie whose MAC has been checked.
struct builtin_authenticator::cookie_fields {
  std::int64_t user = 0;
  std::int64_t expires = 0;  // unix seconds
  std::string key;
};

std::chrono::seconds login_lockout(std::int64_t failures, std::int64_t threshold, clock::time_point last,
                                   clock::time_point now, const login_limits& limits) noexcept {
  if (failures < threshold || threshold <= 0) return std::chrono::seconds{0};
  // first_lockout * 2^(failures - threshold), capped; the shift is bounded so it cannot overflow.
  auto lockout = limits.max_lockout;
  const auto doublings = failures - threshold;
  if (doublings < 30) lockout = std::min(limits.max_lockout, limits.first_lockout * (std::int64_t{1} << doublings));
  const auto until = last + lockout;
  if (until <= now) return std::chrono::seconds{0};
  return std::chrono::ceil<std::chrono::seconds>(until - now);
}

bool identity::has_permission(std::string_view permission) const noexcept {
  return std::ranges::find(permissions, permission) != permissions.end();
}

bool permission_rule::permits(const identity& who) const noexcept {
  if (empty()) return true;
  if (!who.authenticated()) return false;
  if (!std::ranges::all_of(all_of, [&](const std::string& p) { return who.has_permission(p); })) return false;
  return any_of.empty() || std::ranges::any_of(any_of, [&](const std::string& p) { return who.has_permission(p); });
}

bool authenticator::csrf_ok(const request&, const identity&) {
  return false;
}

result<std::string> hash_password(std::string_view password, bool fast) {
  if (sodium_init() < 0) return failure{error::crypto_failure, "libsodium could not be initialised"};
  char out[crypto_pwhash_STRBYTES];
  const auto ops = fast ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE;
  const auto mem = fast ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return failure{error::crypto_failure, "Argon2id hashing failed (out of memory?)"};
  }
  return std::string{out};
}

bool verify_password(std::string_view hash, std::string_view password) noexcept {
  if (sodium_init() < 0 || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  char buf[crypto_pwhash_STRBYTES] = {};
  std::copy(hash.begin(), hash.end(), buf);
  return crypto_pwhash_str_verify(buf, password.data(), password.size()) == 0;
}

builtin_authenticator::builtin_authenticator(store::session_store& store, const clock& clk, std::string_view secret,
                                             builtin_auth_options options)
    : builtin_authenticator(store, store, clk, secret, std::move(options)) {}

builtin_authenticator::builtin_authenticator(store::user_repository& users, store::login_store& logins,
                                             const clock& clk, std::string_view secret, builtin_auth_options options)
    : users_(users),
      logins_(logins),
      clock_(clk),
      options_(std::move(options)),
      cache_(std::make_unique<detail::identity_cache>(options_.identity_cache_ttl, options_.identity_cache_capacity)) {
  // The HMAC key is always the SHA-256 of the secret: any length works, and a short secret is
  // never used raw.
  auto k = sigv4::sha256_hex(secret);
  key_ = k ? *k : std::string{};
  // A hash to verify against when the user does not exist, so both paths do the same work.
  auto dummy = hash_password("not a password", options_.fast_hashing);
  dummy_hash_ = dummy ? *dummy : std::string{};
}

// mac: empty only when OpenSSL fails; mac_matches never accepts an empty expected MAC, so a failure
// refuses the cookie or CSRF token rather than matching an empty one.
std::string builtin_authenticator::mac(std::string_view data) const {
  auto m = sigv4::hmac_sha256_hex(key_, data);
  return m ? std::move(*m) : std::string{};
}

namespace {
bool mac_matches(const std::string& expected, std::string_view given) noexcept {
  return !expected.empty() && constant_time_equal(expected, given);
}
}  // namespace

std::string builtin_authenticator::csrf_token(std::string_view session_key) const {
  return mac("csrf." + std::string{session_key});
}

std::optional<builtin_authenticator::cookie_fields> builtin_authenticator::verified_cookie(const request& req) const {
  const auto cookie = req.cookie(options_.session_cookie);
  if (!cookie) return std::nullopt;
  std::string_view parts[4];
  cookie_fields out;
  if (!split4(*cookie, parts) || !parse_i64(parts[0], out.user) || !parse_i64(parts[1], out.expires) ||
      parts[2].size() != 32) {
    return std::nullopt;
  }
  const auto signed_part = std::string_view{*cookie}.substr(0, cookie->size() - parts[3].size() - 1);
  if (!mac_matches(mac(signed_part), parts[3])) return std::nullopt;
  if (out.expires <= unix_millis(clock_.now()) / 1000) return std::nullopt;
  out.key = std::string{parts[2]};
  return out;
}

result<identity> builtin_authenticator::from_request(const request& req) {
  auto cookie = verified_cookie(req);
  if (!cookie) return identity{};
  // A signed, unexpired cookie may still have been logged out: that is only known server-side.
  auto key_hash = sigv4::sha256_hex(cookie->key);
  if (!key_hash) return key_hash.error();
  auto revoked = logins_.is_session_revoked(*key_hash);
  if (!revoked) return revoked.error();
  if (*revoked) return identity{};
  auto who = for_user(cookie->user);
  if (!who) {
    if (who.error() == condition::not_found) return identity{};  // the user was deleted
    return who.error();
  }
  who->session_key = std::move(cookie->key);
  return who;
}

result<void> builtin_authenticator::logout(const request& req) {
  auto cookie = verified_cookie(req);
  if (!cookie) return ok();
  auto key_hash = sigv4::sha256_hex(cookie->key);
  if (!key_hash) return key_hash.error();
  // Kept until the cookie's own expiry: after that the MAC check refuses it without the store.
  return logins_.revoke_session(*key_hash, from_unix_millis(cookie->expires * 1000));
}

builtin_authenticator::~builtin_authenticator() {
  // Queued logins still run (and answer) before the members they use go away.
  std::lock_guard lock(pool_mutex_);
  if (pool_) pool_->stop();
}

result<identity> builtin_authenticator::for_user(store::user_id user) {
  if (!cache_->enabled()) return load_user(user);
  // The generation is read before the lookup: a grant or revoke that runs meanwhile moves it, and
  // the cache then refuses to keep what this lookup read.
  const auto generation = users_.permission_generation();
  const auto now = clock_.now();
  if (auto hit = cache_->find(user, now, generation)) return std::move(*hit);
  auto who = load_user(user);
  if (who) cache_->put(user, *who, now, generation);
  return who;
}

void builtin_authenticator::forget(store::user_id user) {
  cache_->forget(user);
}

void builtin_authenticator::forget_all() {
  cache_->clear();
}

result<identity> builtin_authenticator::load_user(store::user_id user) {
  auto u = users_.get_user(user);
  if (!u) return u.error();
  auto perms = users_.permissions_of(user);
  if (!perms) return perms.error();
  identity who;
  who.user = u->id;
  who.username = u->username;
  who.permissions = std::move(*perms);
  return who;
}

bool builtin_authenticator::csrf_ok(const request& req, const identity& who) {
  const auto header = req.header_value(options_.csrf_header);
  if (!header || who.session_key.empty()) return false;
  return mac_matches(csrf_token(who.session_key), *header);
}

result<store::user> builtin_authenticator::add_user(std::string_view username, std::string_view password) {
  auto hash = hash_password(password, options_.fast_hashing);
  if (!hash) return hash.error();
  return users_.create_user(username, *hash);
}

std::string_view same_site_name(same_site s) noexcept {
  switch (s) {
    case same_site::strict:
      return "Strict";
    case same_site::lax:
      return "Lax";
    case same_site::none:
      return "None";
  }
  return "Lax";
}

result<void> check_auth_options(const builtin_auth_options& options) {
  if (options.cookie_same_site == same_site::none && !options.secure_cookie) {
    return failure{core::error::invalid_argument,
                   "the session cookie cannot be SameSite=None without Secure: browsers drop such a cookie; serve "
                   "the backend over HTTPS with secure_cookie on, or keep SameSite=Lax (enough for pages on another "
                   "port or subdomain of the same site)"};
  }
  return ok();
}

result<login_result> builtin_authenticator::login(std::string_view username, std::string_view password,
                                                  std::string_view address, std::chrono::seconds* retry_after) {
  if (auto checked = check_auth_options(options_); !checked) return checked.error();
  if (address.empty()) address = "local";
  const auto& limits = options_.limits;
  const auto now = clock_.now();
  auto failures = logins_.login_failures_since(username, address, now - limits.window);
  if (!failures) return failures.error();
  const auto wait = std::max(
      login_lockout(failures->by_user, limits.max_user_failures, failures->last_by_user, now, limits),
      login_lockout(failures->by_address, limits.max_address_failures, failures->last_by_address, now, limits));
  if (wait.count() > 0) {
    if (retry_after != nullptr) *retry_after = wait;
    return failure{error::rate_limited, fmt::format("too many failed logins; retry in {} s", wait.count())};
  }
  // refuse: a wrong name or password counts against both the name and the address.
  auto refuse = [&]() -> result<login_result> {
    if (auto r = logins_.record_login_failure(username, address, now - limits.window); !r) return r.error();
    return failure{error::bad_credentials};
  };
  auto u = users_.find_user(username);
  if (!u) {
    if (u.error() != condition::not_found) return u.error();
    (void)verify_password(dummy_hash_, password);
    return refuse();
  }
  if (!verify_password(u->password_hash, password)) return refuse();
  if (failures->by_user > 0) {
    if (auto cleared = logins_.clear_login_failures(username); !cleared) return cleared.error();
  }
  auto who = for_user(u->id);
  if (!who) return who.error();
  auto key = new_token_hex();
  if (!key) return key.error();
  who->session_key = key->substr(0, 32);
  const auto expires = unix_millis(clock_.now()) / 1000 + options_.session_lifetime.count();
  const auto body = fmt::format("{}.{}.{}", u->id, expires, who->session_key);
  const auto body_mac = mac(body);
  if (body_mac.empty()) return failure{error::crypto_failure, "HMAC-SHA256 failed: no session cookie issued"};
  login_result out;
  out.set_cookie = fmt::format("{}={}.{}; Path=/; Max-Age={}; HttpOnly; SameSite={}{}", options_.session_cookie, body,
                               body_mac, options_.session_lifetime.count(), same_site_name(options_.cookie_same_site),
                               options_.secure_cookie ? "; Secure" : "");
  out.csrf_token = csrf_token(who->session_key);
  out.who = std::move(*who);
  return out;
}

response builtin_authenticator::login_response(const request& req) {
  if (req.method != "POST") {
    auto r = response::text(405, "Method Not Allowed");
    r.headers.push_back({"Allow", "POST"});
    return r;
  }
  const auto [username, password] = credentials_of(req);
  std::string address{address_of(req.remote_address)};
  if (options_.login_proxy_hops > 0) {
    auto forwarded = client_ip(req.header_value("X-Forwarded-For").value_or(""), options_.login_proxy_hops);
    if (!forwarded) return response::text(400, "Invalid request headers");
    address = std::move(*forwarded);
  }
  std::chrono::seconds wait{0};
  auto l = login(username, password, address, &wait);
  if (!l) {
    if (l.error() == error::bad_credentials) return response::text(401, "Invalid credentials");
    if (l.error() == error::rate_limited) return with_retry_after(response::text(429, "Too Many Requests"), wait);
    return response::text(503, "Service Unavailable");
  }
  auto r = response::json(200, json::object{{"username", l->who.username}, {"csrf_token", l->csrf_token}});
  r.headers.push_back({"Set-Cookie", l->set_cookie});
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

detail::worker_pool* builtin_authenticator::hashing_pool() {
  std::lock_guard lock(pool_mutex_);
  // One thread: Argon2id is memory-hard (64 MiB a hash at the interactive cost), and logins are rare
  // enough that one at a time is plenty; a flood then costs one core and a bounded queue.
  if (!pool_) pool_ = std::make_unique<detail::worker_pool>(1, options_.hashing_queue);
  return pool_.get();
}

void builtin_authenticator::async_login(request req, std::function<void(response)> done, const logging::logger& log) {
  auto shared_done = std::make_shared<std::function<void(response)>>(std::move(done));
  const std::string remote = req.remote_address;
  auto task = [this, req = std::move(req), shared_done, log] {
    auto r = login_response(req);
    if (r.status == 503) log.error("login failed: the store failed", "status", r.status, "remote", req.remote_address);
    (*shared_done)(std::move(r));
  };
  if (hashing_pool()->post(std::move(task)) != detail::worker_pool::outcome::queued) {
    log.warn("login refused: hashing queue full", "status", 503U, "queue", options_.hashing_queue, "remote", remote);
    (*shared_done)(with_retry_after(response::text(503, "Service Unavailable"), std::chrono::seconds{1}));
  }
}

std::string builtin_authenticator::logout_cookie() const {
  return fmt::format("{}=; Path=/; Max-Age=0; HttpOnly; SameSite={}{}", options_.session_cookie,
                     same_site_name(options_.cookie_same_site), options_.secure_cookie ? "; Secure" : "");
}

}  // namespace apigw::dispatch
