// CORS and the session cookie's SameSite on the embedded server, over real sockets on loopback:
// exact-match allow-list (never a reflected Origin), Vary: Origin, credentials only for listed
// origins, preflights, which endpoints take part, and the options start() refuses.
#include "apigw/server/server.hpp"

#include "apigw/core/json.hpp"
#include "apigw/dispatch/testing.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/store/session_store.hpp"
#include "support/io_runner.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace apigw::server {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view k_app = "http://127.0.0.1:5173";

class server_cors_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_store((dir_ / "db.sqlite3").string(), clock_);
    ASSERT_TRUE(opened);
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->migrate());
    out_ = std::make_unique<dispatch::recording_delivery>(*store_);
    pool_ = std::make_unique<net::http_client_pool>(io_.executor());
    view_.handle("echo", [](request_context&) { return response::ok(); });
  }
  void TearDown() override {
    pool_.reset();
    server_.reset();
    app_.reset();
    auth_.reset();
  }

  // start: a server with these CORS and cookie settings; its start() result.
  result<void> start(cors_options cors, dispatch::builtin_auth_options auth = {.secure_cookie = false}) {
    server_.reset();
    app_.reset();
    auth.fast_hashing = true;
    auth_ = std::make_unique<dispatch::builtin_authenticator>(*store_, clock_, "secret", auth);
    dispatch::backend_options o;
    o.log = [](std::string_view) {};
    app_ = std::make_unique<dispatch::backend>(*store_, *out_, *auth_, clock_, o);
    server_options so;
    so.cors = std::move(cors);
    server_ = std::make_unique<backend_server>(*app_, so, auth_.get());
    server_->mount("/ws", view_);
    server_->route("/api/orders/", [](const dispatch::request&) { return dispatch::response::text(200, "orders"); });
    return server_->start();
  }

  result<net::http_response> send(std::string method, std::string target, std::vector<dispatch::header> headers = {},
                                  std::string body = {}) {
    net::http_request r;
    r.method = std::move(method);
    r.origin = net::origin{net::scheme::http, "127.0.0.1", server_->port()};
    r.target = std::move(target);
    for (auto& h : headers) r.headers.push_back({h.name, h.value});
    r.body = std::move(body);
    return io_.run(pool_->request(std::move(r)));
  }

  static std::string header(const net::http_response& r, std::string_view name) {
    return std::string{net::find_header(r.headers, name).value_or("")};
  }

  apigw::testing::temp_dir tmp_{"apigw-cors-"};
  const std::filesystem::path dir_ = tmp_.path();
  manual_clock clock_;
  std::unique_ptr<store::session_store> store_;
  std::unique_ptr<dispatch::recording_delivery> out_;
  std::unique_ptr<dispatch::builtin_authenticator> auth_;
  std::unique_ptr<dispatch::backend> app_;
  view view_;
  std::unique_ptr<backend_server> server_;
  testing::io_runner io_;
  std::unique_ptr<net::http_client_pool> pool_;
};

TEST_F(server_cors_test, a_listed_origin_logs_in_and_gets_a_token_with_credentials) {
  ASSERT_TRUE(start({.allowed_origins = {std::string{k_app}, "https://app.example.com"}}));
  ASSERT_TRUE(auth_->add_user("alice", "pw"));

  // The preflight of the token request (a POST with X-CSRF-Token is not a "simple" request).
  auto pre = send("OPTIONS", "/api/ws-token/",
                  {{"Origin", std::string{k_app}},
                   {"Access-Control-Request-Method", "POST"},
                   {"Access-Control-Request-Headers", "x-csrf-token"}});
  ASSERT_TRUE(pre) << pre.error().message;
  EXPECT_EQ(pre->status, 204U);
  EXPECT_EQ(pre->body, "");
  EXPECT_EQ(header(*pre, "Access-Control-Allow-Origin"), k_app);
  EXPECT_EQ(header(*pre, "Access-Control-Allow-Credentials"), "true");
  EXPECT_NE(header(*pre, "Access-Control-Allow-Methods").find("POST"), std::string::npos);
  EXPECT_NE(header(*pre, "Access-Control-Allow-Headers").find("X-CSRF-Token"), std::string::npos);
  EXPECT_EQ(header(*pre, "Vary"), "Origin");
  EXPECT_EQ(header(*pre, "Access-Control-Max-Age"), "600");

  auto login = send("POST", "/api/login/", {{"Origin", std::string{k_app}}, {"Content-Type", "application/json"}},
                    R"({"username":"alice","password":"pw"})");
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 200U) << login->body;
  EXPECT_EQ(header(*login, "Access-Control-Allow-Origin"), k_app);
  EXPECT_EQ(header(*login, "Access-Control-Allow-Credentials"), "true");
  const auto set_cookie = header(*login, "Set-Cookie");
  EXPECT_NE(set_cookie.find("SameSite=Lax"), std::string::npos) << set_cookie;
  const auto cookie = set_cookie.substr(0, set_cookie.find(';'));
  const auto csrf = std::string{get_string(*parse_json_object(login->body), "csrf_token").value_or("")};

  auto token =
      send("POST", "/api/ws-token/", {{"Origin", std::string{k_app}}, {"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(token);
  ASSERT_EQ(token->status, 200U) << token->body;
  EXPECT_EQ(header(*token, "Access-Control-Allow-Origin"), k_app);
  EXPECT_EQ(header(*token, "Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(header(*token, "Vary"), "Origin");
  EXPECT_EQ(get_string(*parse_json_object(token->body), "token").value_or("").size(), 64U);

  // The application's own routes take part too.
  auto orders = send("GET", "/api/orders/7", {{"Origin", "https://app.example.com"}});
  ASSERT_TRUE(orders);
  EXPECT_EQ(orders->status, 200U);
  EXPECT_EQ(header(*orders, "Access-Control-Allow-Origin"), "https://app.example.com");
}

TEST_F(server_cors_test, other_origins_are_never_reflected) {
  ASSERT_TRUE(start({.allowed_origins = {std::string{k_app}}}));
  // Near misses: another port, a trailing slash, another scheme, upper case, a suffix, "null".
  for (const char* origin : {"http://127.0.0.1:5174", "http://127.0.0.1:5173/", "https://127.0.0.1:5173",
                             "HTTP://127.0.0.1:5173", "http://127.0.0.1:51730", "null", "https://evil.example"}) {
    SCOPED_TRACE(origin);
    auto pre = send("OPTIONS", "/api/ws-token/", {{"Origin", origin}, {"Access-Control-Request-Method", "POST"}});
    ASSERT_TRUE(pre);
    EXPECT_EQ(pre->status, 403U);
    EXPECT_EQ(header(*pre, "Access-Control-Allow-Origin"), "");
    EXPECT_EQ(header(*pre, "Vary"), "Origin");
    auto r = send("POST", "/api/ws-token/", {{"Origin", origin}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403U);  // answered as usual ("Authentication required": no session) ...
    EXPECT_EQ(header(*r, "Access-Control-Allow-Origin"), "");  // ... but unreadable to the page
    EXPECT_EQ(header(*r, "Access-Control-Allow-Credentials"), "");
    EXPECT_EQ(header(*r, "Vary"), "Origin");
  }
  // No Origin (same-origin pages, curl): no CORS headers but Vary, so a cache keeps them apart.
  auto plain = send("POST", "/api/ws-token/");
  ASSERT_TRUE(plain);
  EXPECT_EQ(header(*plain, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(header(*plain, "Vary"), "Origin");
}

TEST_F(server_cors_test, only_the_browser_endpoints_take_part) {
  ASSERT_TRUE(start({.allowed_origins = {std::string{k_app}}, .allow_credentials = false}));
  // The views API Gateway calls and the health check: no CORS at all, OPTIONS is not theirs.
  for (const char* path : {"/ws/echo", "/healthz", "/metrics"}) {
    SCOPED_TRACE(path);
    auto r = send("GET", path, {{"Origin", std::string{k_app}}});
    ASSERT_TRUE(r);
    EXPECT_EQ(header(*r, "Access-Control-Allow-Origin"), "");
    EXPECT_EQ(header(*r, "Vary"), "");
    auto pre = send("OPTIONS", path, {{"Origin", std::string{k_app}}, {"Access-Control-Request-Method", "GET"}});
    ASSERT_TRUE(pre);
    EXPECT_EQ(header(*pre, "Access-Control-Allow-Origin"), "");
  }
  // allow_credentials off: the origin may read answers, without cookies.
  auto r = send("GET", "/api/orders/1", {{"Origin", std::string{k_app}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(header(*r, "Access-Control-Allow-Origin"), k_app);
  EXPECT_EQ(header(*r, "Access-Control-Allow-Credentials"), "");
}

TEST_F(server_cors_test, cors_is_off_by_default) {
  ASSERT_TRUE(start({}));
  auto r = send("POST", "/api/ws-token/", {{"Origin", std::string{k_app}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(header(*r, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(header(*r, "Vary"), "");
  auto pre =
      send("OPTIONS", "/api/ws-token/", {{"Origin", std::string{k_app}}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(pre);
  EXPECT_EQ(header(*pre, "Access-Control-Allow-Origin"), "");
}

TEST_F(server_cors_test, origins_a_browser_never_sends_are_refused_at_start) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"*", "list origins"},
      {"null", "forge"},
      {"app.example.com", "http:// or https://"},
      {"https://app.example.com/", "trailing"},
      {"https://app.example.com/spa", "path"},
      {"https://App.example.com", "upper-case"},
      {"https://app.example.com:443", "default port"},
      {"http://127.0.0.1:80", "default port"},
      {"http://127.0.0.1:x", "not a number"},
      {"https://", "no host"},
  };
  for (const auto& [origin, says] : cases) {
    SCOPED_TRACE(origin);
    auto r = start({.allowed_origins = {origin}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), condition::invalid_argument);
    EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("cors.allowed_origins"), std::string::npos) << r.error().message;
  }
  EXPECT_TRUE(start({.allowed_origins = {"http://[::1]:8080", "https://app.example.com:8443"}}));
}

TEST_F(server_cors_test, same_site_none_needs_secure) {
  auto r = start({}, {.secure_cookie = false, .cookie_same_site = dispatch::same_site::none});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), condition::invalid_argument);
  EXPECT_NE(r.error().message.find("SameSite=None without Secure"), std::string::npos) << r.error().message;
  // login() refuses too, for code that uses the authenticator without the server.
  ASSERT_TRUE(auth_->add_user("bob", "pw"));
  EXPECT_FALSE(auth_->login("bob", "pw", "127.0.0.1", nullptr));

  ASSERT_TRUE(start({.allowed_origins = {"https://app.example.com"}},
                    {.secure_cookie = true, .cookie_same_site = dispatch::same_site::none}));
  ASSERT_TRUE(auth_->add_user("carol", "pw"));
  auto login =
      send("POST", "/api/login/", {{"Content-Type", "application/json"}}, R"({"username":"carol","password":"pw"})");
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 200U) << login->body;
  const auto set_cookie = header(*login, "Set-Cookie");
  EXPECT_NE(set_cookie.find("; SameSite=None; Secure"), std::string::npos) << set_cookie;
  auto out = send("POST", "/api/logout/", {{"Cookie", set_cookie.substr(0, set_cookie.find(';'))}});
  ASSERT_TRUE(out);
  EXPECT_NE(header(*out, "Set-Cookie").find("SameSite=None; Secure"), std::string::npos) << header(*out, "Set-Cookie");

  ASSERT_TRUE(start({}, {.secure_cookie = false, .cookie_same_site = dispatch::same_site::strict}));
  ASSERT_TRUE(auth_->add_user("dave", "pw"));
  login = send("POST", "/api/login/", {{"Content-Type", "application/json"}}, R"({"username":"dave","password":"pw"})");
  ASSERT_TRUE(login);
  EXPECT_NE(header(*login, "Set-Cookie").find("SameSite=Strict"), std::string::npos) << header(*login, "Set-Cookie");
}

}  // namespace
}  // namespace apigw::server
