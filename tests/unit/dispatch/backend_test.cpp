// The backend suite: every check of backend.hpp and its status and body, run unchanged against
// SQLite and PostgreSQL. (Over 600 lines on purpose: one fixture and one table of checks that a
// reader compares side by side; split, the cases of one check would sit in different files.)
#include "apigw/dispatch/backend.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/dispatch/error.hpp"
#include "backend_fixture.hpp"

#include <atomic>
#include <latch>
#include <thread>

namespace apigw::dispatch::testing_support {
namespace {

using namespace std::chrono_literals;

// echo_view: a small view: "echo" replies with the body's text; "admin" needs a permission;
// "boom" throws.
class echo_view : public view {
 public:
  echo_view() {
    handle("echo", &echo_view::echo);
    handle("admin", [](request_context&) { return response::text(200, "admin ok"); }, {.all_of = {"admin"}});
    handle("staff", [](request_context&) { return response::text(200, "staff ok"); }, {.any_of = {"staff", "admin"}});
    handle("boom", [](request_context&) -> response { throw std::runtime_error("secret detail"); });
  }
  response echo(request_context& ctx) {
    (void)ctx.reply(json::object{{"echo", ctx.body().at("text")}});
    return response::ok();
  }
};

TEST_P(backend_test, connect_creates_the_session) {
  echo_view v;
  start(v);
  auto r = gw_->connect(cid(1), {.query = "channel=general"});
  EXPECT_EQ(r.status, 200U) << r.body;
  EXPECT_EQ(r.body, "{}");
  auto s = store_->find_session(cid(1));
  ASSERT_TRUE(s) << why(s);
  EXPECT_TRUE(s->connected);
  EXPECT_EQ(s->gateway, gateway_.id);
  EXPECT_FALSE(s->user);
  EXPECT_EQ(*store_->channels_of(cid(1)), std::vector<std::string>{"general"});
}

TEST_P(backend_test, only_post_is_accepted) {
  echo_view v;
  start(v);
  auto req = gw_->connect_request(cid(1));
  req.method = "GET";
  auto r = app_->handle(v, "connect", req);
  EXPECT_EQ(r.status, 405U);
}

TEST_P(backend_test, body_over_128_kib_is_refused) {
  echo_view v;
  start(v);
  ASSERT_EQ(gw_->connect(cid(1)).status, 200U);
  auto r = gw_->message_text(cid(1), std::string(k_max_message_bytes + 1, ' '));
  EXPECT_EQ(r.status, 413U);
}

TEST_P(backend_test, every_required_header_is_checked) {
  echo_view v;
  start(v);
  for (const auto& name : options_.security.required_headers) {
    auto req = gw_->message_request(cid(1), R"({"handler":"echo","text":"x"})");
    std::erase_if(req.headers, [&](const header& h) { return iequals(h.name, name); });
    auto r = app_->handle(v, "default", req);
    EXPECT_EQ(r.status, 400U) << name;
    EXPECT_EQ(r.body, "Invalid request headers") << name;
  }
  for (const auto& name : options_.security.additional_required_headers) {
    auto req = gw_->connect_request(cid(1));
    std::erase_if(req.headers, [&](const header& h) { return iequals(h.name, name); });
    EXPECT_EQ(app_->handle(v, "connect", req).status, 400U) << name;
  }
  EXPECT_FALSE(store_->find_session(cid(1)));
}

TEST_P(backend_test, unknown_api_id_is_refused_and_cached_briefly) {
  echo_view v;
  start(v, {.api_id = "forged1234"});
  auto r = gw_->connect(cid(1));
  EXPECT_EQ(r.status, 400U);
  EXPECT_EQ(r.body, "Invalid request headers");

  store::gateway g;
  g.name = "second";
  g.api_id = "forged1234";
  ASSERT_TRUE(store_->upsert_gateway(g));
  EXPECT_EQ(gw_->connect(cid(1)).status, 400U) << "the negative entry is still cached";
  clock_.advance(options_.unknown_gateway_cache_ttl + 1s);
  EXPECT_EQ(gw_->connect(cid(1)).status, 200U);
}

TEST_P(backend_test, shared_secret_is_required_when_configured) {
  options_.security.shared_secret = "s3cret-value";
  echo_view v;
  start(v);
  auto r = gw_->connect(cid(1));
  EXPECT_EQ(r.status, 400U);
  EXPECT_EQ(r.body, "Invalid request headers");

  fake_gateway wrong(*app_, v, {.shared_secret = "s3cret-valuX"});
  EXPECT_EQ(wrong.connect(cid(1)).status, 400U);
  fake_gateway right(*app_, v, {.shared_secret = "s3cret-value"});
  EXPECT_EQ(right.connect(cid(1)).status, 200U);
}

TEST_P(backend_test, malformed_connection_id_is_refused) {
  echo_view v;
  start(v);
  auto r = gw_->connect("bad id/../x");
  EXPECT_EQ(r.status, 400U);
  EXPECT_EQ(r.body, "Invalid connection id");
}

TEST_P(backend_test, message_and_disconnect_need_the_gateway_user_agent) {
  echo_view v;
  start(v);
  ASSERT_EQ(gw_->connect(cid(1)).status, 200U);  // $connect carries the browser's agent
  for (const std::string ua : {"Mozilla/5.0", "AmazonAPIGateway_otherapi", "xAmazonAPIGateway_abc123defg"}) {
    auto msg = gw_->message_request(cid(1), R"({"handler":"echo","text":"x"})");
    auto disc = gw_->disconnect_request(cid(1));
    for (auto* req : {&msg, &disc}) {
      for (auto& h : req->headers) {
        if (h.name == "User-Agent") h.value = ua;
      }
    }
    auto r = app_->handle(v, "default", msg);
    EXPECT_EQ(r.status, 400U) << ua;
    EXPECT_EQ(r.body, "Unexpected Useragent");
    EXPECT_EQ(app_->handle(v, "disconnect", disc).status, 400U) << ua;
  }
  EXPECT_TRUE(store_->find_session(cid(1))->connected);
}

TEST_P(backend_test, connect_needs_the_connection_headers) {
  echo_view v;
  start(v);
  auto req = gw_->connect_request(cid(1));
  std::erase_if(req.headers, [](const header& h) { return h.name == "Cookie" || h.name == "Sec-WebSocket-Key"; });
  auto r = app_->handle(v, "connect", req);
  EXPECT_EQ(r.status, 400U);
  EXPECT_EQ(r.body, "Missing 2 headers");
}

TEST_P(backend_test, allowed_hosts_use_domain_semantics_and_are_not_echoed) {
  options_.security.allowed_hosts = {".example.com", "exact.test"};
  options_.security.check_origin_host = false;
  echo_view v;
  start(v, {.host = "evil.test"});
  auto r = gw_->connect(cid(1));
  EXPECT_EQ(r.status, 400U);
  EXPECT_EQ(r.body, "Host is not allowed");
  EXPECT_EQ(r.body.find("example"), std::string::npos);

  fake_gateway sub(*app_, v, {.host = "ws.example.com:443"});
  EXPECT_EQ(sub.connect(cid(2)).status, 200U);
  fake_gateway apex(*app_, v, {.host = "example.com"});
  EXPECT_EQ(apex.connect(cid(3)).status, 200U);
  fake_gateway suffix(*app_, v, {.host = "badexample.com"});
  EXPECT_EQ(suffix.connect(cid(4)).status, 400U);
}

TEST_P(backend_test, origins_are_matched_exactly) {
  options_.security.allowed_origins = {"https://example.com"};
  echo_view v;
  start(v);
  for (const std::string bad : {"https://evil-example.com", "https://example.com.evil.test", "http://example.com",
                                "https://example.com:8443", "null"}) {
    auto r = gw_->connect(cid(1), {.origin = bad});
    EXPECT_EQ(r.status, 400U) << bad;
    EXPECT_EQ(r.body, "Origin is not allowed") << bad;
  }
  EXPECT_EQ(gw_->connect(cid(1), {.origin = "HTTPS://Example.com:443"}).status, 200U);
}

TEST_P(backend_test, without_an_origin_list_the_origin_host_must_equal_the_host) {
  echo_view v;
  start(v, {.host = "example.com", .origin = "https://evil-example.com"});
  auto r = gw_->connect(cid(1));
  EXPECT_EQ(r.status, 400U);
  EXPECT_EQ(r.body, "Host is not in Origin");
  EXPECT_EQ(gw_->connect(cid(1), {.origin = "https://example.com"}).status, 200U);
}

TEST_P(backend_test, channel_names_are_validated) {
  echo_view v;
  start(v);
  for (const std::string& bad : std::vector<std::string>{"a b", "a.b", "%C3%A9t%C3%A9", std::string(129, 'a')}) {
    auto r = gw_->connect(cid(1), {.query = "channel=" + bad});
    EXPECT_EQ(r.status, 400U) << bad;
    EXPECT_EQ(r.body, "Invalid channel name");
  }
  EXPECT_EQ(gw_->connect(cid(1), {.query = "channel=" + std::string(128, 'a')}).status, 200U);
}

TEST_P(backend_test, the_gateway_default_channel_is_joined_without_a_query) {
  gateway_.default_channel = "lobby";
  ASSERT_TRUE(store_->upsert_gateway(gateway_));
  echo_view v;
  start(v);
  ASSERT_EQ(gw_->connect(cid(1)).status, 200U);
  EXPECT_EQ(*store_->channels_of(cid(1)), std::vector<std::string>{"lobby"});
}

TEST_P(backend_test, channel_hook_and_view_permissions_refuse_with_403) {
  echo_view v;
  v.authorize_channels([](const identity& who, std::string_view ch) { return ch != "staff" || who.authenticated(); });
  start(v);
  auto r = gw_->connect(cid(1), {.query = "channel=staff"});
  EXPECT_EQ(r.status, 403U);
  EXPECT_EQ(r.body, "Permission Denied");
  const auto cookie = login("alice");
  EXPECT_EQ(gw_->connect(cid(1), {.query = "channel=staff", .cookie = cookie}).status, 200U);

  echo_view locked;
  locked.require({.all_of = {"chat"}});
  fake_gateway gw2(*app_, locked);
  EXPECT_EQ(gw2.connect(cid(2), {.cookie = cookie}).status, 403U);
  const auto bob = login("bob", {"chat"});
  EXPECT_EQ(gw2.connect(cid(2), {.cookie = bob}).status, 200U);
  EXPECT_EQ(store_->find_session(cid(2))->user, store_->find_user_id("bob").value());
}

TEST_P(backend_test, custom_connection_check_refuses_with_its_message) {
  echo_view v;
  v.check_connections([](const request_context& ctx) -> std::optional<std::string> {
    if (ctx.query("room") == "closed") return "Room is closed";
    return std::nullopt;
  });
  start(v);
  auto r = gw_->connect(cid(1), {.query = "room=closed"});
  EXPECT_EQ(r.status, 400U);
  EXPECT_EQ(r.body, "Room is closed");
  EXPECT_EQ(gw_->connect(cid(1), {.query = "room=open"}).status, 200U);
}

TEST_P(backend_test, duplicate_connection_id_overwrites_nothing) {
  echo_view v;
  start(v);
  const auto cookie = login("alice");
  ASSERT_EQ(gw_->connect(cid(1), {.cookie = cookie}).status, 200U);
  auto r = gw_->connect(cid(1));
  EXPECT_EQ(r.status, 409U);
  EXPECT_EQ(r.body, "Duplicate connection id");
  EXPECT_TRUE(store_->find_session(cid(1))->user);
}

TEST_P(backend_test, token_mode_checks_session_and_token) {
  options_.security.use_ws_token = true;
  options_.tokens.lifetime = 30s;
  echo_view v;
  start(v);
  auto r = gw_->connect(cid(1));
  EXPECT_EQ(r.status, 400U);
  EXPECT_EQ(r.body, "Invalid session");

  const auto cookie = login("alice");
  r = gw_->connect(cid(1), {.query = "ws_token=" + std::string(64, 'a'), .cookie = cookie});
  EXPECT_EQ(r.status, 400U);
  EXPECT_EQ(r.body, "Invalid or expired token");

  const auto token = token_for(cookie);
  ASSERT_EQ(token.size(), 64U);
  // A bad channel is refused before the token is consumed, so the token survives it.
  EXPECT_EQ(gw_->connect(cid(1), {.query = "channel=a.b&ws_token=" + token, .cookie = cookie}).status, 400U);
  // Another browser session cannot use it.
  const auto other = login("bob");
  EXPECT_EQ(gw_->connect(cid(1), {.query = "ws_token=" + token, .cookie = other}).status, 400U);

  r = gw_->connect(cid(1), {.query = "ws_token=" + token, .cookie = cookie});
  EXPECT_EQ(r.status, 200U) << r.body;
  EXPECT_EQ(store_->find_session(cid(1))->user, store_->find_user_id("alice").value());
  r = gw_->connect(cid(2), {.query = "ws_token=" + token, .cookie = cookie});
  EXPECT_EQ(r.status, 400U) << "single use";
  EXPECT_EQ(r.body, "Invalid or expired token");
}

TEST_P(backend_test, token_lifetime_is_the_configured_one) {
  options_.security.use_ws_token = true;
  options_.tokens.lifetime = 5s;
  echo_view v;
  start(v);
  const auto cookie = login("alice");
  const auto token = token_for(cookie);
  clock_.advance(6s);
  EXPECT_EQ(gw_->connect(cid(1), {.query = "ws_token=" + token, .cookie = cookie}).status, 400U);
  const auto fresh = token_for(cookie);
  clock_.advance(4s);
  EXPECT_EQ(gw_->connect(cid(1), {.query = "ws_token=" + fresh, .cookie = cookie}).status, 200U);
}

TEST_P(backend_test, concurrent_connects_with_one_token_have_one_winner) {
  options_.security.use_ws_token = true;
  options_.rate_limit.max_attempts = 1000;
  echo_view v;
  start(v);
  const auto cookie = login("alice");
  for (int round = 0; round < 5; ++round) {
    const auto token = token_for(cookie);
    std::atomic<int> accepted{0};
    std::latch go(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        go.arrive_and_wait();
        auto r = gw_->connect(cid(round * 10 + t), {.query = "ws_token=" + token, .cookie = cookie});
        if (r.status == 200U) ++accepted;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(accepted.load(), 1) << "round " << round;
  }
}

TEST_P(backend_test, rate_limit_counts_failures_and_slides) {
  options_.rate_limit.max_attempts = 3;
  options_.rate_limit.window = 60s;
  options_.security.allowed_origins = {"https://example.com"};
  echo_view v;
  start(v);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(gw_->connect(cid(i)).status, 400U);  // wrong origin: failures count
  auto r = gw_->connect(cid(9), {.origin = "https://example.com"});
  EXPECT_EQ(r.status, 400U);
  EXPECT_EQ(r.body, "Too many connection attempts");

  // Shared through the store: a second backend process with empty memory refuses too.
  backend other(*store_, *out_, *auth_, clock_, options_);
  fake_gateway gw2(other, v);
  EXPECT_EQ(gw2.connect(cid(9), {.origin = "https://example.com"}).body, "Too many connection attempts");
  // Another client address is not affected.
  EXPECT_EQ(gw_->connect(cid(9), {.origin = "https://example.com", .forwarded_for = "198.51.100.7"}).status, 200U);

  clock_.advance(61s);
  EXPECT_EQ(gw_->connect(cid(10), {.origin = "https://example.com"}).status, 200U);
}

TEST_P(backend_test, client_supplied_forwarded_for_entries_are_not_trusted) {
  options_.rate_limit.max_attempts = 1;
  echo_view v;
  start(v);
  ASSERT_EQ(gw_->connect(cid(1), {.forwarded_for = "1.1.1.1, 203.0.113.10"}).status, 200U);
  // Rotating the spoofed first entry does not buy a fresh limit.
  EXPECT_EQ(gw_->connect(cid(2), {.forwarded_for = "2.2.2.2, 203.0.113.10"}).body, "Too many connection attempts");
  EXPECT_EQ(gw_->connect(cid(3), {.forwarded_for = "not-an-ip"}).body, "Invalid request headers");
}

TEST_P(backend_test, messages_pick_handler_then_action) {
  echo_view v;
  start(v);
  ASSERT_EQ(gw_->connect(cid(1)).status, 200U);
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "echo"}, {"text", "a"}}).status, 200U);
  EXPECT_EQ(gw_->message(cid(1), {{"action", "echo"}, {"text", "b"}}).status, 200U);
  EXPECT_EQ(gw_->message(cid(1), {{"handler", ""}, {"action", "echo"}, {"text", "c"}}).status, 200U);
  const auto got = out_->json_for(cid(1));
  ASSERT_EQ(got.size(), 3U);
  EXPECT_EQ(got[2].at("echo"), "c");
  EXPECT_EQ(store_->find_session(cid(1))->request_count, 4);
}

TEST_P(backend_test, handler_and_action_key_names_are_configurable) {
  options_.security.handler_key = "op";
  options_.security.action_key = "type";
  echo_view v;
  v.on_default([](request_context&) { return response::text(200, "default"); });
  start(v);
  ASSERT_EQ(gw_->connect(cid(1)).status, 200U);
  EXPECT_EQ(gw_->message(cid(1), {{"op", "echo"}, {"text", "a"}}).status, 200U);
  EXPECT_EQ(gw_->message(cid(1), {{"type", "echo"}, {"text", "b"}}).status, 200U);
  // The default names mean nothing now: the message goes to `default`.
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "echo"}, {"text", "c"}}).body, "default");
  EXPECT_EQ(gw_->message(cid(1), {{"op", "nope"}}).body, "Unknown handler");
  const auto got = out_->json_for(cid(1));
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[1].at("echo"), "b");
}

TEST_P(backend_test, bad_bodies_and_unknown_handlers_get_400) {
  options_.security.notify_unknown_handler = true;
  echo_view v;
  start(v);
  ASSERT_EQ(gw_->connect(cid(1)).status, 200U);
  for (const std::string body : {"", "not json", "[1,2]", "\"echo\"", "{}", "{\"handler\":5}"}) {
    auto r = gw_->message_text(cid(1), body);
    EXPECT_EQ(r.status, 400U) << body;
    EXPECT_EQ(r.body, "Invalid request format (1)") << body;
  }
  for (const std::string name : {"connect", "disconnect", "dispatch", "nope", "_private"}) {
    auto r = gw_->message(cid(1), {{"handler", name}});
    EXPECT_EQ(r.status, 400U) << name;
    EXPECT_EQ(r.body, "Unknown handler") << name;
  }
  EXPECT_EQ(out_->json_for(cid(1)).size(), 5U) << "the client was told each time";
}

TEST_P(backend_test, default_handler_runs_when_no_handler_is_named) {
  echo_view v;
  v.on_default([](request_context&) { return response::text(200, "default"); });
  start(v);
  ASSERT_EQ(gw_->connect(cid(1)).status, 200U);
  EXPECT_EQ(gw_->message(cid(1), {{"text", "x"}}).body, "default");
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "nope"}}).body, "Unknown handler");
}

TEST_P(backend_test, custom_route_runs_its_own_handler) {
  echo_view v;
  v.handle("sendmessage", [](request_context&) { return response::text(200, "route"); });
  start(v);
  ASSERT_EQ(gw_->connect(cid(1)).status, 200U);
  EXPECT_EQ(gw_->message(cid(1), {{"text", "x"}}, "sendmessage").body, "route");
}

TEST_P(backend_test, message_from_unknown_session_gets_404) {
  echo_view v;
  start(v);
  auto r = gw_->message(cid(5), {{"handler", "echo"}, {"text", "x"}});
  EXPECT_EQ(r.status, 404U);
  EXPECT_EQ(r.body, "Session not found");
}

TEST_P(backend_test, handler_permissions_any_of_and_all_of) {
  echo_view v;
  start(v);
  const auto plain = login("plain");
  const auto staff = login("staff", {"staff"});
  const auto admin = login("admin", {"admin"});
  ASSERT_EQ(gw_->connect(cid(0)).status, 200U);
  ASSERT_EQ(gw_->connect(cid(1), {.cookie = plain}).status, 200U);
  ASSERT_EQ(gw_->connect(cid(2), {.cookie = staff}).status, 200U);
  ASSERT_EQ(gw_->connect(cid(3), {.cookie = admin}).status, 200U);
  auto status = [&](int c, const char* h) { return gw_->message(cid(c), {{"handler", h}}).status; };
  EXPECT_EQ(status(0, "admin"), 403U);
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "admin"}}).body, "Permission Denied");
  EXPECT_EQ(status(2, "admin"), 403U);
  EXPECT_EQ(status(3, "admin"), 200U);
  EXPECT_EQ(status(0, "staff"), 403U);
  EXPECT_EQ(status(1, "staff"), 403U);
  EXPECT_EQ(status(2, "staff"), 200U);
  EXPECT_EQ(status(3, "staff"), 200U);
}

TEST_P(backend_test, handler_exceptions_become_500_without_details) {
  std::vector<std::string> lines;
  options_.log = [&](std::string_view l) { lines.emplace_back(l); };
  echo_view v;
  start(v);
  ASSERT_EQ(gw_->connect(cid(1)).status, 200U);
  auto r = gw_->message(cid(1), {{"handler", "boom"}});
  EXPECT_EQ(r.status, 500U);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  // The error line names the exception and carries the request's fields; the access line follows.
  ASSERT_EQ(lines.size(), 3U);  // connect's access line, the error, the message's access line
  EXPECT_NE(lines[1].find("level=error msg=\"handler threw\""), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("secret detail"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find(" handler=boom "), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find(" trace_id=\"Root=1-67890abc-0123456789abcdef01234567\""), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find(" status=500 "), std::string::npos) << lines[2];
}

TEST_P(backend_test, every_request_gets_an_access_line_with_its_trace_id) {
  std::vector<std::string> lines;
  options_.log =
      logging::logger([&](std::string_view l) { lines.emplace_back(l); }, logging::level::info, logging::format::json);
  echo_view v;
  start(v);
  ASSERT_EQ(gw_->connect(cid(1)).status, 200U);
  ASSERT_EQ(gw_->message(cid(1), {{"handler", "echo"}, {"text", "hi"}}).status, 200U);
  ASSERT_EQ(gw_->message(cid(2), {{"handler", "echo"}, {"text", "hi"}}).status, 404U);  // no such session
  ASSERT_EQ(lines.size(), 3U);
  std::vector<json::object> parsed;
  for (const auto& l : lines) {
    auto o = parse_json_object(l);
    ASSERT_TRUE(o) << l;
    parsed.push_back(std::move(*o));
  }
  const auto text = [&](std::size_t i, std::string_view key) {
    return std::string(get_string(parsed[i], key).value_or("<missing>"));
  };
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    EXPECT_EQ(text(i, "msg"), "request");
    EXPECT_EQ(text(i, "trace_id"), "Root=1-67890abc-0123456789abcdef01234567");
    ASSERT_TRUE(parsed[i].contains("duration_ms")) << lines[i];
    EXPECT_TRUE(parsed[i].at("duration_ms").is_number()) << lines[i];
  }
  EXPECT_EQ(text(0, "route"), "connect");
  EXPECT_EQ(text(0, "connection_id"), cid(1));
  EXPECT_EQ(parsed[0].at("status").as_int64(), 200);
  EXPECT_EQ(text(1, "route"), "default");
  EXPECT_EQ(text(1, "handler"), "echo");
  EXPECT_EQ(text(1, "level"), "info");
  EXPECT_EQ(text(2, "connection_id"), cid(2));
  EXPECT_EQ(parsed[2].at("status").as_int64(), 404);

  // Below its level the backend writes nothing.
  lines.clear();
  options_.log = logging::logger([&](std::string_view l) { lines.emplace_back(l); }, logging::level::warn);
  start(v);
  ASSERT_EQ(gw_->message(cid(1), {{"handler", "echo"}, {"text", "hi"}}).status, 200U);
  EXPECT_TRUE(lines.empty());
}

TEST_P(backend_test, disconnect_marks_the_session_and_ignores_unknown_ids) {
  echo_view v;
  int seen = 0;
  v.on_disconnect([&](request_context& ctx) {
    ++seen;
    EXPECT_FALSE(ctx.session()->connected);
    return response::ok();
  });
  start(v);
  ASSERT_EQ(gw_->connect(cid(1)).status, 200U);
  EXPECT_EQ(gw_->disconnect(cid(1)).status, 200U);
  EXPECT_FALSE(store_->find_session(cid(1))->connected);
  EXPECT_EQ(gw_->disconnect(cid(2)).status, 200U);
  EXPECT_EQ(seen, 1);
}

TEST_P(backend_test, token_endpoint_statuses) {
  options_.tokens.max_issued_per_minute = 2;
  echo_view v;
  start(v);
  request r;
  r.method = "GET";
  EXPECT_EQ(app_->issue_token(r).status, 405U);
  r.method = "POST";
  auto resp = app_->issue_token(r);
  EXPECT_EQ(resp.status, 403U);
  EXPECT_EQ(resp.body, "Authentication required");

  const auto cookie = login("alice");
  r.headers = {{"Cookie", cookie}};
  resp = app_->issue_token(r);
  EXPECT_EQ(resp.status, 403U);
  EXPECT_EQ(resp.body, "CSRF check failed");
  r.headers.push_back({"X-CSRF-Token", std::string(64, '0')});
  EXPECT_EQ(app_->issue_token(r).body, "CSRF check failed");

  r.headers.back().value = last_csrf_;
  resp = app_->issue_token(r);
  ASSERT_EQ(resp.status, 200U) << resp.body;
  auto body = parse_json_object(resp.body);
  ASSERT_TRUE(body);
  EXPECT_TRUE(is_token_hex(get_string(*body, "token").value_or("")));
  EXPECT_EQ(get_int(*body, "expires_in"), options_.tokens.lifetime.count());
  EXPECT_EQ(app_->issue_token(r).status, 200U);
  resp = app_->issue_token(r);
  EXPECT_EQ(resp.status, 403U);
  EXPECT_EQ(resp.body, "Rate limit exceeded");
  clock_.advance(61s);
  EXPECT_EQ(app_->issue_token(r).status, 200U);
}

TEST_P(backend_test, channel_handlers_are_validated_and_authorized) {
  echo_view v;
  v.enable_channel_handlers();
  v.authorize_channels([](const identity&, std::string_view ch) { return ch != "secret"; });
  start(v);
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=a"}).status, 200U);
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "join_channel"}, {"channel", "b"}}).status, 200U);
  EXPECT_EQ(*store_->channels_of(cid(1)), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "join_channel"}, {"channel", "bad name"}}).body, "Invalid channel name");
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "join_channel"}}).body, "Invalid channel name");
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "join_channel"}, {"channel", "secret"}}).status, 403U);
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "change_channel"}, {"channel", "secret"}}).status, 403U);
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "leave_channel"}, {"channel", "a"}}).status, 200U);
  EXPECT_EQ(*store_->channels_of(cid(1)), (std::vector<std::string>{"b"}));
  EXPECT_EQ(gw_->message(cid(1), {{"handler", "change_channel"}, {"channel", "c"}}).status, 200U);
  EXPECT_EQ(*store_->channels_of(cid(1)), (std::vector<std::string>{"c"}));
}

TEST_P(backend_test, presence_counts_sessions_and_distinct_users) {
  echo_view v;
  start(v);
  const auto alice = login("alice");
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=room", .cookie = alice}).status, 200U);
  ASSERT_EQ(gw_->connect(cid(2), {.query = "channel=room", .cookie = alice}).status, 200U);
  ASSERT_EQ(gw_->connect(cid(3), {.query = "channel=room"}).status, 200U);
  ASSERT_EQ(gw_->connect(cid(4), {.query = "channel=other"}).status, 200U);
  ASSERT_EQ(gw_->disconnect(cid(3)).status, 200U);
  auto p = app_->presence("room");
  ASSERT_TRUE(p) << why(p);
  EXPECT_EQ(p->sessions, 2);
  EXPECT_EQ(p->users, std::vector<store::user_id>{store_->find_user_id("alice").value()});
  EXPECT_EQ(p->anonymous_sessions, 0);
}

TEST_P(backend_test, worker_pool_refuses_when_full) {
  options_.workers = 1;
  options_.queue_capacity = 1;
  std::latch release(1);
  echo_view v;
  v.handle("wait", [&](request_context&) {
    release.wait();
    return response::ok();
  });
  start(v);
  ASSERT_EQ(gw_->connect(cid(1)).status, 200U);
  std::atomic<int> done{0};
  auto req = gw_->message_request(cid(1), R"({"handler":"wait"})");
  auto count = [&](response) { ++done; };
  ASSERT_TRUE(app_->submit(v, "default", req, count));
  int accepted = 1;
  // The worker may not have taken the first task yet; fill until the queue refuses.
  result<void> r = ok();
  for (int i = 0; i < 3; ++i) {
    r = app_->submit(v, "default", req, count);
    if (!r) break;
    ++accepted;
  }
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), error::overloaded);
  release.count_down();
  app_->stop();
  EXPECT_EQ(done.load(), accepted) << "every accepted request was answered";
  EXPECT_EQ(app_->submit(v, "default", req, count).error(), error::shutting_down);
}

TEST_P(backend_test, store_failures_are_503_without_details) {
  // A database that was never migrated: every store call fails with schema_missing.
  auto broken = store::open_store(GetParam().fresh_url(), clock_);
  ASSERT_TRUE(broken) << why(broken);
  std::vector<std::string> lines;
  options_.log = [&](std::string_view l) { lines.emplace_back(l); };
  builtin_authenticator auth(**broken, clock_, "secret", {.fast_hashing = true});
  recording_delivery out(**broken);
  backend app(**broken, out, auth, clock_, options_);
  echo_view v;
  fake_gateway gw(app, v);
  auto r = gw.connect(cid(1));
  EXPECT_EQ(r.status, 503U);
  EXPECT_EQ(r.body, "Service Unavailable");
  ASSERT_EQ(lines.size(), 2U);  // the failure, then the access line with 503 (at warn)
  EXPECT_NE(lines[0].find("level=error"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("migrate"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("level=warn msg=request"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find(" status=503 "), std::string::npos) << lines[1];
}

TEST_P(backend_test, refusing_on_connect_handler_leaves_the_session_disconnected) {
  echo_view v;
  v.on_connect([](request_context& ctx) {
    EXPECT_TRUE(ctx.session());
    return response::text(403, "Go away");
  });
  start(v);
  auto r = gw_->connect(cid(1));
  EXPECT_EQ(r.status, 403U);
  EXPECT_FALSE(store_->find_session(cid(1))->connected);
}

TEST_P(backend_test, a_410_during_connect_does_not_disconnect_the_new_session) {
  // The on_connect handler greets the client and a handler broadcasts to its channel before the
  // connection is open; API Gateway answers both with 410. The session must stay connected.
  echo_view v;
  v.on_connect([](request_context& ctx) {
    auto greeting = ctx.reply(json::object{{"type", "welcome"}}).wait();
    EXPECT_TRUE(greeting);
    if (greeting) {
      EXPECT_EQ(greeting->gone.size(), 1U);
    }
    auto room = ctx.sessions().in_channel("room").send_message(json::object{{"type", "joined"}}).wait();
    EXPECT_TRUE(room);
    if (room) {
      EXPECT_EQ(room->gone.size(), 1U);
    }
    return response::ok();
  });
  start(v);
  out_->gone_on_send(cid(1));  // what the gateway answers while $connect runs
  ASSERT_EQ(gw_->connect(cid(1), {.query = "channel=room"}).status, 200U);
  EXPECT_TRUE(store_->find_session(cid(1))->connected);
  EXPECT_EQ(*app_->sessions().in_channel("room").count(), 1);
}

TEST_P(backend_test, throwing_connection_check_is_500_and_counts_as_a_failure) {
  options_.rate_limit.max_attempts = 1;
  echo_view v;
  v.check_connections([](const request_context&) -> std::optional<std::string> { throw std::runtime_error("x"); });
  start(v);
  EXPECT_EQ(gw_->connect(cid(1)).status, 500U);
  EXPECT_EQ(gw_->connect(cid(2)).body, "Too many connection attempts");
  EXPECT_FALSE(store_->find_session(cid(1)));
}

INSTANTIATE_TEST_SUITE_P(dispatch, backend_test, ::testing::Values(linked_provider()), provider_name);

}  // namespace
}  // namespace apigw::dispatch::testing_support
