// backend_fixture.hpp: the fixture of the backend suite, run against SQLite (unit_dispatch) and a
// throwaway PostgreSQL server (pg_dispatch) through the store suite's database providers.
//
// Each test gets a fresh migrated database with one registered gateway (API id "abc123defg"), the
// built-in authenticator (fast hashing), an in-memory @connections (recording_delivery) and a
// fake API Gateway that builds integration requests as AWS does.
#pragma once

#include "apigw/dispatch/backend.hpp"
#include "apigw/dispatch/testing.hpp"
#include "store_fixture.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace apigw::dispatch::testing_support {

using store::testing_support::database_provider;
using store::testing_support::linked_provider;
using store::testing_support::provider_name;
using store::testing_support::why;

// cid: a valid, AWS-shaped connection id for number n.
inline std::string cid(int n) {
  return "c" + std::string(14 - std::to_string(n).size(), '0') + std::to_string(n) + "=";
}

class backend_test : public ::testing::TestWithParam<database_provider> {
 protected:
  void SetUp() override {
    url_ = GetParam().fresh_url();
    auto opened = store::open_store(url_, clock_);
    ASSERT_TRUE(opened) << why(opened);
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->migrate());
    store::gateway g;
    g.name = "dev";
    g.api_id = "abc123defg";
    g.endpoint = "http://127.0.0.1:9/dev";
    auto gw = store_->upsert_gateway(g);
    ASSERT_TRUE(gw) << why(gw);
    gateway_ = *gw;
    auth_ = std::make_unique<builtin_authenticator>(*store_, clock_, "test secret",
                                                    builtin_auth_options{.secure_cookie = false, .fast_hashing = true});
    out_ = std::make_unique<recording_delivery>(*store_);
    options_.security.use_ws_token = false;
    options_.workers = 2;
    options_.log = [](std::string_view) {};
  }

  // start: the backend with the current options_, and a fake gateway for `v`.
  void start(view& v, fake_gateway_options gw = {}) {
    app_ = std::make_unique<backend>(*store_, *out_, *auth_, clock_, options_);
    gw_ = std::make_unique<fake_gateway>(*app_, v, std::move(gw));
  }

  // login: a user with permissions, logged in; returns the session cookie ("name=value").
  std::string login(const std::string& name, std::vector<std::string> permissions = {}) {
    auto u = auth_->add_user(name, "pw-" + name);
    EXPECT_TRUE(u) << why(u);
    for (const auto& p : permissions) EXPECT_TRUE(store_->grant_permission(u->id, p));
    auto l = auth_->login(name, "pw-" + name);
    EXPECT_TRUE(l) << why(l);
    last_csrf_ = l->csrf_token;
    return l->set_cookie.substr(0, l->set_cookie.find(';'));
  }

  // token_for: a token issued through the token endpoint for the user behind `cookie`.
  std::string token_for(const std::string& cookie) {
    request r;
    r.path = "/api/ws-token/";
    r.headers = {{"Cookie", cookie}, {"X-CSRF-Token", last_csrf_}};
    auto resp = app_->issue_token(r);
    EXPECT_EQ(resp.status, 200U) << resp.body;
    auto body = parse_json_object(resp.body);
    if (!body) return {};
    return std::string{get_string(*body, "token").value_or("")};
  }

  manual_clock clock_;
  std::string url_;
  std::unique_ptr<store::session_store> store_;
  store::gateway gateway_;
  std::unique_ptr<builtin_authenticator> auth_;
  std::unique_ptr<recording_delivery> out_;
  backend_options options_;
  std::unique_ptr<backend> app_;
  std::unique_ptr<fake_gateway> gw_;
  std::string last_csrf_;
};

}  // namespace apigw::dispatch::testing_support
