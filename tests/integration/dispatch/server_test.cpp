// The embedded backend server over real sockets on loopback: views reached as API Gateway reaches
// them, login -> token -> connect, static files, the health check, limits and graceful shutdown.
#include "apigw/server/server.hpp"

#include "apigw/dispatch/testing.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/store/session_store.hpp"
#include "support/io_runner.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <latch>
#include <stdexcept>

namespace apigw::server {
namespace {

using namespace std::chrono_literals;

std::string cid(int n) {
  return "s" + std::string(14 - std::to_string(n).size(), '0') + std::to_string(n) + "=";
}

using apigw::testing::temp_dir;

class server_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_store((dir_.path() / "db.sqlite3").string(), clock_);
    ASSERT_TRUE(opened);
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->migrate());
    store::gateway g;
    g.name = "dev";
    g.api_id = "abc123defg";
    ASSERT_TRUE(store_->upsert_gateway(g));
    std::filesystem::create_directories(dir_.path() / "web" / "js");
    std::ofstream(dir_.path() / "web" / "index.html") << "<h1>hi</h1>";
    std::ofstream(dir_.path() / "web" / "js" / "app.js") << "export {};";
    std::ofstream(dir_.path() / "secret.txt") << "do not serve";

    auth_ = std::make_unique<dispatch::builtin_authenticator>(
        *store_, clock_, "secret", dispatch::builtin_auth_options{.secure_cookie = false, .fast_hashing = true});
    out_ = std::make_unique<dispatch::recording_delivery>(*store_);
    dispatch::backend_options o;
    o.security.use_ws_token = false;
    o.log = [](std::string_view) {};
    app_ = std::make_unique<dispatch::backend>(*store_, *out_, *auth_, clock_, o);
    view_.handle("echo", [](request_context& ctx) {
      (void)ctx.reply(ctx.body());
      return response::ok();
    });
    view_.handle("slow", [this](request_context&) {
      slow_started_.count_down();
      std::this_thread::sleep_for(300ms);
      return response::text(200, "slow done");
    });
    server_ = std::make_unique<backend_server>(
        *app_, server_options{.static_root = dir_.path() / "web", .shutdown_grace = 5s}, auth_.get());
    server_->mount("/ws", view_);
    ASSERT_TRUE(server_->start());
    pool_ = std::make_unique<net::http_client_pool>(io_.executor());
  }

  void TearDown() override {
    pool_.reset();
    server_.reset();
  }

  // send: one request to the server.
  result<net::http_response> send(std::string method, std::string target, std::vector<dispatch::header> headers = {},
                                  std::string body = {}) {
    net::http_request r;
    r.method = std::move(method);
    r.origin = net::origin{net::scheme::http, "127.0.0.1", server_->port()};
    r.target = std::move(target);
    for (auto& h : headers) {
      if (!dispatch::iequals(h.name, "Content-Length")) r.headers.push_back({h.name, h.value});
    }
    r.body = std::move(body);
    return io_.run(pool_->request(std::move(r)));
  }

  // send_as_gateway: a request built by fake_gateway, sent over HTTP.
  result<net::http_response> send_as_gateway(const dispatch::request& req) {
    return send(req.method, req.path + (req.query.empty() ? "" : "?" + req.query), req.headers, req.body);
  }

  temp_dir dir_{"apigw-server-"};
  manual_clock clock_;
  std::unique_ptr<store::session_store> store_;
  std::unique_ptr<dispatch::builtin_authenticator> auth_;
  std::unique_ptr<dispatch::recording_delivery> out_;
  std::unique_ptr<dispatch::backend> app_;
  view view_;
  std::latch slow_started_{1};
  std::unique_ptr<backend_server> server_;
  testing::io_runner io_;
  std::unique_ptr<net::http_client_pool> pool_;
};

TEST_F(server_test, health_check) {
  auto r = send("GET", "/healthz");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200U);
  EXPECT_EQ(r->body, R"({"status":"ok"})");
}

// metric: the value of the series `line_start` ("name{labels}") in a /metrics body; -1 when absent.
double metric(const std::string& body, std::string_view line_start) {
  for (std::size_t at = 0; at < body.size();) {
    const auto end = body.find('\n', at);
    const std::string_view line(body.data() + at, (end == std::string::npos ? body.size() : end) - at);
    if (line.starts_with(line_start) && line.size() > line_start.size() && line[line_start.size()] == ' ') {
      return std::stod(std::string(line.substr(line_start.size() + 1)));
    }
    at = end == std::string::npos ? body.size() : end + 1;
  }
  return -1;
}

TEST_F(server_test, metrics_move_with_the_load) {
  // What an operator's scraper sees: the series exist before any traffic, and each request,
  // token, refusal and send moves exactly the series it should.
  const auto scrape = [&] {
    auto r = send("GET", "/metrics");
    EXPECT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200U);
    EXPECT_EQ(net::find_header(r->headers, "Content-Type").value_or(""), "text/plain; version=0.0.4");
    return r->body;
  };
  const auto before = scrape();
  EXPECT_EQ(metric(before, "apigw_backend_tokens_issued_total"), 0);
  EXPECT_EQ(metric(before, "apigw_backend_request_duration_seconds_count"), 0);
  EXPECT_EQ(metric(before, "apigw_backend_worker_queue_depth"), 0);

  dispatch::fake_gateway gw(*app_, view_);
  ASSERT_EQ(send_as_gateway(gw.connect_request(cid(1)))->status, 200U);
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(send_as_gateway(gw.message_request(cid(1), R"({"handler":"echo"})"))->status, 200U);
  ASSERT_EQ(send_as_gateway(gw.message_request(cid(1), R"({"handler":"nope"})"))->status, 400U);
  ASSERT_TRUE(auth_->add_user("alice", "pw"));
  auto login = send("POST", "/api/login/", {{"Content-Type", "application/x-www-form-urlencoded"}},
                    "username=alice&password=pw");
  ASSERT_EQ(login->status, 200U);
  const auto set_cookie = std::string{net::find_header(login->headers, "Set-Cookie").value_or("")};
  const auto cookie = set_cookie.substr(0, set_cookie.find(';'));
  const auto csrf = std::string{get_string(*parse_json_object(login->body), "csrf_token").value_or("")};
  ASSERT_EQ(send("POST", "/api/ws-token/", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}})->status, 200U);
  ASSERT_EQ(send("POST", "/api/ws-token/", {{"Cookie", cookie}, {"X-CSRF-Token", "wrong"}})->status, 403U);
  ASSERT_EQ(send("POST", "/api/ws-token/")->status, 403U);

  const auto after = scrape();
  EXPECT_EQ(metric(after, R"(apigw_backend_requests_total{route="connect",status="200"})"), 1);
  EXPECT_EQ(metric(after, R"(apigw_backend_requests_total{route="default",status="200"})"), 3);
  EXPECT_EQ(metric(after, R"(apigw_backend_requests_total{route="default",status="400"})"), 1);
  EXPECT_EQ(metric(after, "apigw_backend_request_duration_seconds_count"), 5);
  EXPECT_EQ(metric(after, R"(apigw_backend_request_duration_seconds_bucket{le="+Inf"})"), 5);
  EXPECT_EQ(metric(after, "apigw_backend_store_duration_seconds_count"), 5);  // create + 4 touches
  EXPECT_EQ(metric(after, "apigw_backend_tokens_issued_total"), 1);
  EXPECT_EQ(metric(after, R"(apigw_backend_tokens_refused_total{reason="csrf"})"), 1);
  EXPECT_EQ(metric(after, R"(apigw_backend_tokens_refused_total{reason="unauthenticated"})"), 1);
  // The three echoes each replied through the delivery: three sends, three recipients reached.
  EXPECT_EQ(metric(after, "apigw_backend_sends_total"), 3);
  EXPECT_EQ(metric(after, R"(apigw_backend_deliveries_total{outcome="delivered"})"), 3);
  EXPECT_EQ(metric(after, "apigw_backend_sends_in_flight"), 0);

  auto post = send("POST", "/metrics");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405U);
}

TEST_F(server_test, integration_requests_reach_the_mounted_view) {
  dispatch::fake_gateway gw(*app_, view_);
  auto r = send_as_gateway(gw.connect_request(cid(1), {.query = "channel=general"}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200U) << r->body;
  EXPECT_EQ(*store_->channels_of(cid(1)), std::vector<std::string>{"general"});

  r = send_as_gateway(gw.message_request(cid(1), R"({"handler":"echo","x":1})"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200U) << r->body;
  EXPECT_EQ(out_->messages_for(cid(1)), std::vector<std::string>{R"({"handler":"echo","x":1})"});

  r = send_as_gateway(gw.message_request(cid(1), R"({"handler":"nope"})"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400U);
  EXPECT_EQ(r->body, "Unknown handler");

  auto get = gw.message_request(cid(1), "{}");
  get.method = "GET";
  r = send_as_gateway(get);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405U);

  r = send_as_gateway(gw.disconnect_request(cid(1)));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200U);
  EXPECT_FALSE(store_->find_session(cid(1))->connected);
}

TEST_F(server_test, unknown_paths_are_404) {
  for (const char* target : {"/", "/ws/", "/ws/a/b", "/ws/..", "/nope"}) {
    auto r = send("POST", target);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, 404U) << target;
  }
}

TEST_F(server_test, login_token_connect) {
  ASSERT_TRUE(auth_->add_user("alice", "pw"));
  auto bad =
      send("POST", "/api/login/", {{"Content-Type", "application/json"}}, R"({"username":"alice","password":"x"})");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401U);
  auto r = send("POST", "/api/login/", {{"Content-Type", "application/x-www-form-urlencoded"}},
                "username=alice&password=pw");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200U) << r->body;
  const auto set_cookie = std::string{net::find_header(r->headers, "Set-Cookie").value_or("")};
  const auto cookie = set_cookie.substr(0, set_cookie.find(';'));
  const auto csrf = std::string{get_string(*parse_json_object(r->body), "csrf_token").value_or("")};

  auto t = send("POST", "/api/ws-token/", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(t);
  ASSERT_EQ(t->status, 200U) << t->body;
  const auto token = std::string{get_string(*parse_json_object(t->body), "token").value_or("")};
  EXPECT_EQ(token.size(), 64U);
  EXPECT_EQ(net::find_header(t->headers, "Cache-Control"), "no-store");  // a token is never cached
  auto get = send("GET", "/api/ws-token/", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405U);

  auto out = send("POST", "/api/logout/", {{"Cookie", cookie}});
  ASSERT_TRUE(out);
  EXPECT_NE(std::string{net::find_header(out->headers, "Set-Cookie").value_or("")}.find("Max-Age=0"),
            std::string::npos);
}

TEST_F(server_test, logout_revokes_the_cookie_on_the_server) {
  ASSERT_TRUE(auth_->add_user("alice", "pw"));
  auto r =
      send("POST", "/api/login/", {{"Content-Type", "application/json"}}, R"({"username":"alice","password":"pw"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200U) << r->body;
  const auto set_cookie = std::string{net::find_header(r->headers, "Set-Cookie").value_or("")};
  const auto cookie = set_cookie.substr(0, set_cookie.find(';'));
  const auto csrf = std::string{get_string(*parse_json_object(r->body), "csrf_token").value_or("")};
  auto before = send("POST", "/api/ws-token/", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 200U) << before->body;

  auto out = send("POST", "/api/logout/", {{"Cookie", cookie}});
  ASSERT_TRUE(out);
  ASSERT_EQ(out->status, 200U);
  // A copy of the old cookie (a browser that ignored Max-Age=0, or a stolen one) gets nothing.
  auto after = send("POST", "/api/ws-token/", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 403U) << after->body;
}

TEST_F(server_test, repeated_wrong_passwords_get_429_with_retry_after) {
  ASSERT_TRUE(auth_->add_user("alice", "pw"));
  for (int i = 0; i < 5; ++i) {
    auto bad = send("POST", "/api/login/", {{"Content-Type", "application/json"}},
                    R"({"username":"alice","password":"guess"})");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 401U);
  }
  auto locked =
      send("POST", "/api/login/", {{"Content-Type", "application/json"}}, R"({"username":"alice","password":"pw"})");
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->status, 429U);
  EXPECT_EQ(net::find_header(locked->headers, "Retry-After"), "60");
  clock_.advance(60s);
  auto later =
      send("POST", "/api/login/", {{"Content-Type", "application/json"}}, R"({"username":"alice","password":"pw"})");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->status, 200U);
}

TEST_F(server_test, static_files_stay_inside_the_root) {
  auto r = send("GET", "/static/index.html");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200U);
  EXPECT_EQ(r->body, "<h1>hi</h1>");
  EXPECT_EQ(net::find_header(r->headers, "Content-Type"), "text/html; charset=utf-8");
  r = send("GET", "/static/js/app.js");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200U);
  for (const char* bad : {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/js/../../secret.txt",
                          "/static/", "/static/js", "/static/missing.html", "/static//etc/passwd"}) {
    auto b = send("GET", bad);
    ASSERT_TRUE(b) << bad;
    EXPECT_EQ(b->status, 404U) << bad;
  }
}

TEST_F(server_test, oversize_bodies_are_refused) {
  dispatch::fake_gateway gw(*app_, view_);
  ASSERT_EQ(send_as_gateway(gw.connect_request(cid(1)))->status, 200U);
  auto r = send_as_gateway(gw.message_request(cid(1), std::string(200 * 1024, ' ')));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413U);
  auto huge = send_as_gateway(gw.message_request(cid(1), std::string(300 * 1024, ' ')));
  if (huge) {
    EXPECT_EQ(huge->status, 413U);  // the HTTP layer answers 413 (or just closes)
  }
}

TEST_F(server_test, header_and_body_limits_are_configurable) {
  // The defaults: 64 KiB of headers, 256 KiB of body.
  EXPECT_EQ(server_options{}.max_header_bytes, 64U * 1024);
  EXPECT_EQ(server_options{}.max_body_bytes, 256U * 1024);
  auto under = send("GET", "/healthz", {{"X-Fill", std::string(60 * 1024, 'a')}});
  ASSERT_TRUE(under) << under.error().message;
  EXPECT_EQ(under->status, 200U);
  // (two fields: the client's Beast refuses a single field value of 64 KiB or more)
  auto over =
      send("GET", "/healthz", {{"X-Fill", std::string(35 * 1024, 'a')}, {"X-More", std::string(35 * 1024, 'b')}});
  ASSERT_TRUE(over) << over.error().message;
  EXPECT_EQ(over->status, 431U);

  // Smaller limits from server_options.
  server_options o;
  o.max_header_bytes = 4096;
  o.max_body_bytes = 2048;
  backend_server small(*app_, o, auth_.get());
  small.mount("/ws", view_);
  ASSERT_TRUE(small.start());
  auto to_small = [&](std::string method, std::vector<dispatch::header> headers, std::string body) {
    net::http_request r;
    r.method = std::move(method);
    r.origin = net::origin{net::scheme::http, "127.0.0.1", small.port()};
    r.target = "/healthz";
    for (auto& h : headers) r.headers.push_back({h.name, h.value});
    r.body = std::move(body);
    return io_.run(pool_->request(std::move(r)));
  };
  auto fits = to_small("GET", {{"Cookie", std::string(3000, 'c')}}, "");
  ASSERT_TRUE(fits) << fits.error().message;
  EXPECT_EQ(fits->status, 200U);
  auto long_cookie = to_small("GET", {{"Cookie", std::string(5000, 'c')}}, "");
  ASSERT_TRUE(long_cookie) << long_cookie.error().message;
  EXPECT_EQ(long_cookie->status, 431U);
  auto body_fits = to_small("POST", {}, std::string(2000, 'b'));
  ASSERT_TRUE(body_fits) << body_fits.error().message;
  EXPECT_EQ(body_fits->status, 405U) << "past the HTTP layer: the health check allows GET only";
  auto big_body = to_small("POST", {}, std::string(3000, 'b'));
  ASSERT_TRUE(big_body) << big_body.error().message;
  EXPECT_EQ(big_body->status, 413U);
  small.shutdown();
}

TEST_F(server_test, shutdown_finishes_requests_in_flight) {
  dispatch::fake_gateway gw(*app_, view_);
  ASSERT_EQ(send_as_gateway(gw.connect_request(cid(1)))->status, 200U);
  auto slow = std::async(std::launch::async,
                         [&] { return send_as_gateway(gw.message_request(cid(1), R"({"handler":"slow"})")); });
  slow_started_.wait();
  server_->shutdown();
  auto r = slow.get();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200U);
  EXPECT_EQ(r->body, "slow done");
  EXPECT_FALSE(send("GET", "/healthz")) << "nothing listens any more";
}

TEST_F(server_test, a_full_worker_queue_is_answered_503) {
  dispatch::backend_options o;
  o.security.use_ws_token = false;
  o.workers = 1;
  o.queue_capacity = 1;
  o.log = [](std::string_view) {};
  dispatch::backend small(*store_, *out_, *auth_, clock_, o);
  std::latch release(1);
  std::atomic<int> started{0};
  view v;
  v.handle("wait", [&](request_context&) {
    ++started;
    release.wait();
    return response::ok();
  });
  backend_server srv(small, {});
  srv.mount("/ws/", v);
  ASSERT_TRUE(srv.start());
  dispatch::fake_gateway gw(small, v);
  ASSERT_EQ(small.handle(v, "connect", gw.connect_request(cid(1))).status, 200U);

  auto send_wait = [&] {
    auto req = gw.message_request(cid(1), R"({"handler":"wait"})");
    net::http_request r;
    r.method = "POST";
    r.origin = net::origin{net::scheme::http, "127.0.0.1", srv.port()};
    r.target = "/ws/default";
    for (auto& h : req.headers) {
      if (h.name != "Content-Length") r.headers.push_back({h.name, h.value});
    }
    r.body = req.body;
    return io_.run(pool_->request(std::move(r)));
  };
  // One request runs; of two more, one waits in the queue and the other finds it full and is
  // answered at once.
  auto first = std::async(std::launch::async, send_wait);
  while (started.load() == 0) std::this_thread::sleep_for(1ms);
  auto second = std::async(std::launch::async, send_wait);
  auto third = std::async(std::launch::async, send_wait);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (second.wait_for(5ms) != std::future_status::ready && third.wait_for(5ms) != std::future_status::ready &&
         std::chrono::steady_clock::now() < deadline) {
  }
  auto& refused = second.wait_for(0s) == std::future_status::ready ? second : third;
  auto& queued = &refused == &second ? third : second;
  ASSERT_EQ(refused.wait_for(0s), std::future_status::ready);
  auto r = refused.get();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 503U);
  EXPECT_EQ(net::find_header(r->headers, "Retry-After"), "1");
  release.count_down();
  EXPECT_EQ(first.get()->status, 200U);
  EXPECT_EQ(queued.get()->status, 200U);
  srv.shutdown();
}

// The application's own HTTP endpoints: an exact path wins, then the longest prefix ending in '/'
// ("/" alone is the fallback); the built-in endpoints and views come first; a throwing route is a 500.
TEST_F(server_test, application_routes_exact_then_longest_prefix) {
  backend_server http(*app_, {}, auth_.get());
  http.mount("/ws", view_);
  http.route("/", [](const dispatch::request& r) { return response::text(200, "root " + r.path); });
  http.route("/api/orders/", [](const dispatch::request& r) { return response::text(200, "orders " + r.path); });
  http.route("/api/orders/7", [](const dispatch::request&) { return response::text(200, "seven"); });
  http.route("/healthz", [](const dispatch::request&) { return response::text(200, "shadowed"); });
  http.route("/boom", [](const dispatch::request&) -> response { throw std::runtime_error("a bug"); });
  ASSERT_TRUE(http.start());
  auto get = [&](std::string target) {
    net::http_request r;
    r.method = "GET";
    r.origin = net::origin{net::scheme::http, "127.0.0.1", http.port()};
    r.target = std::move(target);
    return io_.run(pool_->request(std::move(r)));
  };
  EXPECT_EQ(get("/")->body, "root /");
  EXPECT_EQ(get("/app/chat/")->body, "root /app/chat/");
  EXPECT_EQ(get("/api/orders/")->body, "orders /api/orders/");
  EXPECT_EQ(get("/api/orders/3")->body, "orders /api/orders/3");
  EXPECT_EQ(get("/api/orders/7")->body, "seven");
  EXPECT_EQ(get("/healthz")->body, R"({"status":"ok"})");
  EXPECT_EQ(get("/boom")->status, 500U);
  http.shutdown();
}

// The token endpoint answers at the configured path, and only there.
TEST_F(server_test, token_path_is_configurable) {
  ASSERT_TRUE(auth_->add_user("bob", "pw"));
  backend_server http(*app_, server_options{.token_path = "/auth/socket-token"}, auth_.get());
  http.mount("/ws", view_);
  ASSERT_TRUE(http.start());
  auto post = [&](std::string target, net::http_headers headers, std::string body) {
    net::http_request r;
    r.method = "POST";
    r.origin = net::origin{net::scheme::http, "127.0.0.1", http.port()};
    r.target = std::move(target);
    r.headers = std::move(headers);
    r.body = std::move(body);
    return io_.run(pool_->request(std::move(r)));
  };
  auto login = post("/api/login/", {{"Content-Type", "application/json"}}, R"({"username":"bob","password":"pw"})");
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 200U) << login->body;
  const auto set_cookie = std::string{net::find_header(login->headers, "Set-Cookie").value_or("")};
  const auto cookie = set_cookie.substr(0, set_cookie.find(';'));
  const auto csrf = std::string{get_string(*parse_json_object(login->body), "csrf_token").value_or("")};
  auto t = post("/auth/socket-token", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}, "");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->status, 200U) << t->body;
  EXPECT_EQ(get_string(*parse_json_object(t->body), "token").value_or("").size(), 64U);
  auto old = post("/api/ws-token/", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}, "");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->status, 404U);
  http.shutdown();
}

}  // namespace
}  // namespace apigw::server
