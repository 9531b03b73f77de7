// Identities, permission rules, password hashing (Argon2id) and the built-in cookie authenticator.
#include "apigw/dispatch/auth.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/dispatch/error.hpp"
#include "apigw/sigv4/hash.hpp"
#include "dispatch/identity_cache.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <charconv>

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

}  // namespace

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

builtin_authenticator::builtin_authenticator(store::user_repository& store, const clock& clk, std::string_view secret,
                                             builtin_auth_options options)
    : store_(store),
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

result<identity> builtin_authenticator::from_request(const request& req) {
  const auto cookie = req.cookie(options_.session_cookie);
  if (!cookie) return identity{};
  std::string_view parts[4];
  std::int64_t user = 0;
  std::int64_t expires = 0;
  if (!split4(*cookie, parts) || !parse_i64(parts[0], user) || !parse_i64(parts[1], expires) || parts[2].size() != 32) {
    return identity{};
  }
  const auto signed_part = std::string_view{*cookie}.substr(0, cookie->size() - parts[3].size() - 1);
  if (!mac_matches(mac(signed_part), parts[3])) return identity{};
  if (expires <= unix_millis(clock_.now()) / 1000) return identity{};
  auto who = for_user(user);
  if (!who) {
    if (who.error() == condition::not_found) return identity{};  // the user was deleted
    return who.error();
  }
  who->session_key = std::string{parts[2]};
  return who;
}

builtin_authenticator::~builtin_authenticator() = default;

result<identity> builtin_authenticator::for_user(store::user_id user) {
  if (!cache_->enabled()) return load_user(user);
  // The generation is read before the lookup: a grant or revoke that runs meanwhile moves it, and
  // the cache then refuses to keep what this lookup read.
  const auto generation = store_.permission_generation();
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
  auto u = store_.get_user(user);
  if (!u) return u.error();
  auto perms = store_.permissions_of(user);
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
  return store_.create_user(username, *hash);
}

result<login_result> builtin_authenticator::login(std::string_view username, std::string_view password) {
  auto u = store_.find_user(username);
  if (!u) {
    if (u.error() != condition::not_found) return u.error();
    (void)verify_password(dummy_hash_, password);
    return failure{error::bad_credentials};
  }
  if (!verify_password(u->password_hash, password)) return failure{error::bad_credentials};
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
  out.set_cookie = fmt::format("{}={}.{}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}", options_.session_cookie, body,
                               body_mac, options_.session_lifetime.count(), options_.secure_cookie ? "; Secure" : "");
  out.csrf_token = csrf_token(who->session_key);
  out.who = std::move(*who);
  return out;
}

std::string builtin_authenticator::logout_cookie() const {
  return fmt::format("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}", options_.session_cookie,
                     options_.secure_cookie ? "; Secure" : "");
}

}  // namespace apigw::dispatch
