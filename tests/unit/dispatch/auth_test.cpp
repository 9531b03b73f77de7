// Tests of identities, permission rules, password hashing and the built-in cookie authenticator.
#include "apigw/dispatch/auth.hpp"

#include "apigw/dispatch/error.hpp"
#include "backend_fixture.hpp"

#include <future>
#include <latch>

namespace apigw::dispatch::testing_support {
namespace {

using namespace std::chrono_literals;

// header_of: the value of the response header `name` ("" when absent).
std::string header_of(const response& r, std::string_view name) {
  for (const auto& h : r.headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

TEST(permission_rule, any_of_and_all_of) {
  identity anon;
  identity who;
  who.user = 1;
  who.permissions = {"a", "b"};
  EXPECT_TRUE(permission_rule{}.permits(anon));
  EXPECT_FALSE(permission_rule{.any_of = {"a"}}.permits(anon));
  EXPECT_TRUE((permission_rule{.any_of = {"x", "a"}}.permits(who)));
  EXPECT_FALSE((permission_rule{.any_of = {"x", "y"}}.permits(who)));
  EXPECT_TRUE((permission_rule{.all_of = {"a", "b"}}.permits(who)));
  EXPECT_FALSE((permission_rule{.all_of = {"a", "c"}}.permits(who)));
  EXPECT_FALSE((permission_rule{.any_of = {"a"}, .all_of = {"c"}}.permits(who)));
}

TEST(passwords, argon2id_hashes_verify) {
  auto h = hash_password("correct horse", true);
  ASSERT_TRUE(h) << why(h);
  EXPECT_TRUE(h->starts_with("$argon2id$"));
  EXPECT_TRUE(verify_password(*h, "correct horse"));
  EXPECT_FALSE(verify_password(*h, "Correct horse"));
  EXPECT_FALSE(verify_password("garbage", "x"));
  EXPECT_FALSE(verify_password("", "x"));
  EXPECT_NE(*hash_password("correct horse", true), *h) << "salted";
}

TEST_P(backend_test, login_issues_a_cookie_the_authenticator_accepts) {
  ASSERT_TRUE(auth_->add_user("alice", "pw"));
  EXPECT_EQ(auth_->login("alice", "wrong").error(), error::bad_credentials);
  EXPECT_EQ(auth_->login("nobody", "pw").error(), error::bad_credentials);
  auto l = auth_->login("alice", "pw");
  ASSERT_TRUE(l) << why(l);
  EXPECT_NE(l->set_cookie.find("HttpOnly"), std::string::npos);
  const auto cookie = l->set_cookie.substr(0, l->set_cookie.find(';'));
  request r;
  r.headers = {{"Cookie", "other=1; " + cookie}};
  auto who = auth_->from_request(r);
  ASSERT_TRUE(who) << why(who);
  EXPECT_EQ(who->username, "alice");
  EXPECT_EQ(who->session_key.size(), 32U);
  EXPECT_FALSE(auth_->csrf_ok(r, *who));
  r.headers.push_back({"X-CSRF-Token", l->csrf_token});
  EXPECT_TRUE(auth_->csrf_ok(r, *who));
}

TEST_P(backend_test, tampered_or_expired_cookies_are_anonymous) {
  ASSERT_TRUE(auth_->add_user("alice", "pw"));
  auto l = auth_->login("alice", "pw");
  ASSERT_TRUE(l);
  auto cookie = l->set_cookie.substr(0, l->set_cookie.find(';'));
  request r;
  auto tampered = cookie;
  tampered[tampered.find('=') + 1] = '9';  // another user id
  r.headers = {{"Cookie", tampered}};
  EXPECT_FALSE(auth_->from_request(r)->authenticated());
  r.headers = {{"Cookie", "apigw_session=garbage"}};
  EXPECT_FALSE(auth_->from_request(r)->authenticated());
  r.headers = {{"Cookie", cookie}};
  EXPECT_TRUE(auth_->from_request(r)->authenticated());
  clock_.advance(auth_->options().session_lifetime + 1s);
  EXPECT_FALSE(auth_->from_request(r)->authenticated());
}

TEST(login_lockout, starts_at_the_threshold_doubles_and_is_capped) {
  const login_limits limits;
  const auto t0 = clock::time_point{} + std::chrono::hours{1000};
  EXPECT_EQ(login_lockout(4, 5, t0, t0, limits), 0s);
  EXPECT_EQ(login_lockout(5, 5, t0, t0, limits), 60s);
  EXPECT_EQ(login_lockout(5, 5, t0, t0 + 59s, limits), 1s);
  EXPECT_EQ(login_lockout(5, 5, t0, t0 + 59500ms, limits), 1s) << "rounded up, never 0 while locked";
  EXPECT_EQ(login_lockout(5, 5, t0, t0 + 60s, limits), 0s);
  EXPECT_EQ(login_lockout(6, 5, t0, t0, limits), 120s);
  EXPECT_EQ(login_lockout(8, 5, t0, t0, limits), 480s);
  EXPECT_EQ(login_lockout(9, 5, t0, t0, limits), 900s) << "capped at 15 minutes";
  EXPECT_EQ(login_lockout(1'000'000, 5, t0, t0, limits), 900s);
  EXPECT_EQ(login_lockout(20, 20, t0, t0, limits), 60s);
}

TEST_P(backend_test, wrong_passwords_lock_the_name_out_with_a_growing_delay) {
  ASSERT_TRUE(auth_->add_user("alice", "pw"));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(auth_->login("alice", "wrong", "10.0.0.1").error(), error::bad_credentials);
  // Locked: even the right password is refused, from any address, and the wait is reported.
  std::chrono::seconds wait{0};
  auto locked = auth_->login("alice", "pw", "10.0.0.2", &wait);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error(), error::rate_limited);
  EXPECT_EQ(locked.error(), condition::throttled);
  EXPECT_EQ(wait, 60s);
  clock_.advance(60s);
  EXPECT_EQ(auth_->login("alice", "wrong", "10.0.0.1").error(), error::bad_credentials);  // the 6th
  EXPECT_EQ(auth_->login("alice", "pw", "10.0.0.1", &wait).error(), error::rate_limited);
  EXPECT_EQ(wait, 120s);
  clock_.advance(120s);
  ASSERT_TRUE(auth_->login("alice", "pw", "10.0.0.1"));
  // Success forgets the name's failures: one more mistake is just a mistake.
  EXPECT_EQ(auth_->login("alice", "wrong", "10.0.0.1").error(), error::bad_credentials);
  EXPECT_TRUE(auth_->login("alice", "pw", "10.0.0.1"));
  // Another user was never affected.
  ASSERT_TRUE(auth_->add_user("bob", "pw"));
  EXPECT_TRUE(auth_->login("bob", "pw", "10.0.0.1"));
}

TEST_P(backend_test, one_address_guessing_at_many_names_is_locked_out) {
  ASSERT_TRUE(auth_->add_user("alice", "pw"));
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(auth_->login("user" + std::to_string(i), "x", "10.0.0.9").error(), error::bad_credentials);
  }
  std::chrono::seconds wait{0};
  EXPECT_EQ(auth_->login("alice", "pw", "10.0.0.9", &wait).error(), error::rate_limited);
  EXPECT_EQ(wait, 60s);
  EXPECT_TRUE(auth_->login("alice", "pw", "10.0.0.10"));  // another address is not
  clock_.advance(15min + 1s);                             // the window has passed
  EXPECT_TRUE(auth_->login("alice", "pw", "10.0.0.9"));
}

TEST_P(backend_test, the_login_endpoint_answers_429_with_retry_after) {
  ASSERT_TRUE(auth_->add_user("alice", "pw"));
  request r;
  r.method = "POST";
  r.remote_address = "10.0.0.1:50000";
  r.body = R"({"username":"alice","password":"wrong"})";
  for (int i = 0; i < 5; ++i) EXPECT_EQ(auth_->login_response(r).status, 401U);
  r.remote_address = "10.0.0.1:50001";  // a new connection from the same host
  r.body = R"({"username":"alice","password":"pw"})";
  auto locked = auth_->login_response(r);
  EXPECT_EQ(locked.status, 429U);
  EXPECT_EQ(header_of(locked, "Retry-After"), "60");
  r.method = "GET";
  EXPECT_EQ(auth_->login_response(r).status, 405U);
}

TEST_P(backend_test, a_full_hashing_queue_is_answered_503_at_once) {
  auth_ = std::make_unique<builtin_authenticator>(
      *store_, clock_, "test secret",
      builtin_auth_options{.secure_cookie = false, .fast_hashing = true, .hashing_queue = 1});
  request r;
  r.method = "POST";
  r.remote_address = "10.0.0.1:50000";
  r.body = R"({"username":"nobody","password":"x"})";
  // The first login's answer holds the hashing thread until released; the second waits in the
  // queue; the third finds the queue full.
  std::latch release{1};
  std::promise<unsigned> first;
  std::promise<unsigned> second;
  auth_->async_login(r, [&](response resp) {
    first.set_value(resp.status);
    release.wait();
  });
  auto first_status = first.get_future();
  EXPECT_EQ(first_status.get(), 401U);  // the thread has taken it off the queue and now waits
  auth_->async_login(r, [&](response resp) { second.set_value(resp.status); });
  std::optional<response> third;
  std::vector<std::string> lines;
  const logging::logger log([&](std::string_view l) { lines.emplace_back(l); });
  auth_->async_login(
      r, [&](response resp) { third = std::move(resp); }, log);
  // Checked after the release, so a failure cannot leave the hashing thread waiting.
  const auto third_status = third ? third->status : 0U;
  const auto third_retry = third ? header_of(*third, "Retry-After") : std::string{};
  release.count_down();
  EXPECT_EQ(third_status, 503U) << "answered on the calling thread, without waiting";
  EXPECT_EQ(third_retry, "1");
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_NE(lines[0].find("level=warn msg=\"login refused: hashing queue full\" status=503 queue=1"), std::string::npos)
      << lines[0];
  EXPECT_EQ(second.get_future().get(), 401U);
}

TEST_P(backend_test, logout_revokes_the_cookie_and_its_unused_tokens) {
  view v;
  start(v);
  const auto cookie = login("alice");
  const auto token = token_for(cookie);
  ASSERT_FALSE(token.empty());
  request r;
  r.headers = {{"Cookie", cookie}};
  const auto who = auth_->from_request(r);
  ASSERT_TRUE(who && who->authenticated());
  const auto session_key = who->session_key;

  ASSERT_TRUE(auth_->logout(r));
  // The same cookie, still signed and unexpired, no longer identifies anyone...
  auto after = auth_->from_request(r);
  ASSERT_TRUE(after) << why(after);
  EXPECT_FALSE(after->authenticated());
  // ...so it gets no new connect token...
  request t;
  t.method = "POST";
  t.path = "/api/ws-token/";
  t.headers = {{"Cookie", cookie}, {"X-CSRF-Token", last_csrf_}};
  EXPECT_EQ(app_->issue_token(t).status, 403U);
  // ...and the token it fetched before logging out is gone too.
  EXPECT_FALSE(app_->tokens().consume(token, session_key));
  // Logging out without a (valid) cookie has nothing to revoke.
  EXPECT_TRUE(auth_->logout(request{}));
  // A new login is a new session.
  EXPECT_FALSE(token_for(login("bob")).empty());
}

}  // namespace
}  // namespace apigw::dispatch::testing_support
