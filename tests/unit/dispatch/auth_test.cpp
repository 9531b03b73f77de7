// Tests of identities, permission rules, password hashing and the built-in cookie authenticator.
#include "apigw/dispatch/auth.hpp"

#include "apigw/dispatch/error.hpp"
#include "backend_fixture.hpp"

namespace apigw::dispatch::testing_support {
namespace {

using namespace std::chrono_literals;

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

}  // namespace
}  // namespace apigw::dispatch::testing_support
