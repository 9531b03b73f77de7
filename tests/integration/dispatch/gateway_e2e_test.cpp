// End to end through the local gateway: a WebSocket client logs in, gets a one-time token, opens a
// socket on `apigw-ws gateway`'s engine, and talks to a backend view over the gateway's real
// HTTP_PROXY integrations; replies come back through the gateway's @connections API. Proves that
// what the local gateway sends passes every check of the backend, as AWS's requests must, and that
// the two logs can be joined: the trace id the gateway sent is in the backend's line for the request.
#include "apigw/dispatch/backend.hpp"

#include "apigw/core/log.hpp"
#include "apigw/dispatch/sender_delivery.hpp"
#include "apigw/gateway/gateway.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/server/server.hpp"
#include "apigw/store/session_store.hpp"
#include "support/io_runner.hpp"
#include "support/ws_client.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace apigw {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;
using testing::ws_client;

// start_local_gateway: the local gateway (the dev API) in front of the backend on
// `backend_port`, registered in the store as the gateway "local"; null when either step fails.
// With `map_request_id`, its integrations also send context.requestId as X-Request-Id (as
// `apigw-ws gateway` and `apigw-ws dev` do).
std::unique_ptr<gateway::gateway> start_local_gateway(testing::io_runner& io, store::session_store& db,
                                                      std::uint16_t backend_port, logging::logger log = {},
                                                      bool map_request_id = false) {
  gateway::gateway_options gopts;
  gopts.port = 0;
  gopts.log = std::move(log);
  auto config = gateway::default_dev_config(fmt::format("http://127.0.0.1:{}/ws/", backend_port));
  if (map_request_id) {
    for (auto& api : config.apis) {
      for (auto& [id, integration] : api.integrations) {
        integration.request_parameters["integration.request.header.X-Request-Id"] = "context.requestId";
      }
    }
  }
  auto gw = std::make_unique<gateway::gateway>(io.executor(), std::move(config), gopts);
  if (!gw->start()) return nullptr;
  store::gateway row;
  row.name = "local";
  row.api_id = "devapi0001";
  row.endpoint = fmt::format("http://127.0.0.1:{}/dev", gw->port());
  if (!db.upsert_gateway(row)) return nullptr;
  return gw;
}

// gateway_e2e: what every test builds around its backend: a SQLite store in a directory of its
// own (removed afterwards, whatever the test's outcome), the sender and its delivery, and the
// built-in authenticator.
class gateway_e2e : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("apigw-e2e-{}-{}", ::testing::UnitTest::GetInstance()->current_test_info()->name(), ::getpid());
    std::filesystem::create_directories(dir_);
    auto opened = store::open_store((dir_ / "db.sqlite3").string(), clock_);
    ASSERT_TRUE(opened);
    db_ = std::move(*opened);
    ASSERT_TRUE(db_->migrate());
    delivery_ = std::make_unique<dispatch::sender_delivery>(sender_, *db_);
    auth_ = std::make_unique<dispatch::builtin_authenticator>(
        *db_, clock_, "e2e secret", dispatch::builtin_auth_options{.secure_cookie = false, .fast_hashing = true});
  }

  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // make_backend: the backend over this store, silent unless `options` has a log, with `options`.
  std::unique_ptr<dispatch::backend> make_backend(dispatch::backend_options options = {}, bool keep_log = false) {
    if (!keep_log) options.log = [](std::string_view) {};
    return std::make_unique<dispatch::backend>(*db_, *delivery_, *auth_, clock_, options);
  }

  clock& clock_ = system_clock_source::instance();
  std::filesystem::path dir_;
  std::unique_ptr<store::session_store> db_;
  mgmt::sender sender_;
  std::unique_ptr<dispatch::sender_delivery> delivery_;
  std::unique_ptr<dispatch::builtin_authenticator> auth_;
};

TEST_F(gateway_e2e, login_token_connect_message_reply_disconnect) {
  auto app_ptr = make_backend();
  auto& app = *app_ptr;
  auto& auth = *auth_;
  auto& db = db_;
  view chat;
  chat.handle("echo", [](request_context& ctx) {
    (void)ctx.reply(json::object{{"you", ctx.user().username}, {"said", ctx.body().at("text")}});
    return response::ok();
  });
  server::backend_server http(app, {}, &auth);
  http.mount("/ws/", chat);
  ASSERT_TRUE(http.start());

  testing::io_runner io;
  auto gw_ptr = start_local_gateway(io, *db, http.port());
  ASSERT_TRUE(gw_ptr);
  auto& gw = *gw_ptr;

  // A browser session: login, then a token for the socket.
  ASSERT_TRUE(auth.add_user("alice", "pw"));
  net::http_client_pool pool(io.executor());
  auto post = [&](std::string target, net::http_headers headers, std::string body) {
    net::http_request r;
    r.method = "POST";
    r.origin = net::origin{net::scheme::http, "127.0.0.1", http.port()};
    r.target = std::move(target);
    r.headers = std::move(headers);
    r.body = std::move(body);
    return io.run(pool.request(std::move(r)));
  };
  auto login = post("/api/login/", {{"Content-Type", "application/json"}}, R"({"username":"alice","password":"pw"})");
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 200U) << login->body;
  const std::string set_cookie{net::find_header(login->headers, "Set-Cookie").value_or("")};
  const auto cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string csrf{get_string(*parse_json_object(login->body), "csrf_token").value_or("")};
  auto token = post("/api/ws-token/", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}, "");
  ASSERT_TRUE(token);
  ASSERT_EQ(token->status, 200U) << token->body;
  const std::string tok{get_string(*parse_json_object(token->body), "token").value_or("")};

  // The browser's upgrade request: the page's origin is the backend's host.
  const std::vector<std::pair<std::string, std::string>> headers{
      {"Origin", fmt::format("http://127.0.0.1:{}", http.port())},
      {"Cookie", cookie},
      {"Sec-WebSocket-Extensions", "permessage-deflate"}};
  ws_client refused(gw.port(), "/dev?channel=room&ws_token=" + std::string(64, 'a'), headers);
  EXPECT_FALSE(refused.ok());

  ws_client ws(gw.port(), "/dev?channel=room&ws_token=" + tok, headers);
  ASSERT_TRUE(ws.ok()) << ws.status();
  auto sessions = db->page(store::session_query{}.in_channel("room").connected_only(), 0, 10);
  ASSERT_TRUE(sessions);
  ASSERT_EQ(sessions->size(), 1U);
  EXPECT_EQ(db->find_user_id("alice").value(), sessions->front().user);

  ws.send(R"({"handler":"echo","text":"hello"})");
  auto reply = ws.read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(*reply, R"({"you":"alice","said":"hello"})");

  auto broadcast = app.sessions().in_channel("room").send_message(json::object{{"type", "news"}}).wait_for(10s);
  ASSERT_TRUE(broadcast) << broadcast.error().message;
  EXPECT_EQ(broadcast->delivered, 1U);
  EXPECT_EQ(ws.read(), R"({"type":"news"})");

  ws.close();
  const auto id = sessions->front().connection_id;
  for (int i = 0; i < 200 && db->find_session(id)->connected; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(db->find_session(id)->connected) << "$disconnect reached the backend";

  io.run(gw.shutdown(1s));
  http.shutdown();
}

TEST_F(gateway_e2e, a_channel_send_while_a_client_connects_does_not_lose_it) {
  // The local gateway, like API Gateway, answers PostToConnection with 410 while a connection's
  // $connect is still running. A handler that sends to the channel in that moment must not mark
  // the connecting client disconnected: its socket opens a moment later and must get later sends.
  dispatch::backend_options options;
  options.security.use_ws_token = false;
  auto app_ptr = make_backend(options);
  auto& app = *app_ptr;
  auto& auth = *auth_;
  auto& db = db_;

  std::promise<void> entered;
  std::promise<void> release;
  const std::shared_future<void> released = release.get_future().share();
  view room_view;
  room_view.on_connect([&](request_context& ctx) {
    if (ctx.query("slow") == std::optional<std::string>{"1"}) {
      entered.set_value();
      released.wait_for(10s);  // $connect is still running: the gateway answers 410 meanwhile
    }
    return response::ok();
  });
  room_view.handle("shout", [](request_context& ctx) {
    auto sent = ctx.sessions().in_channel("room").send_message(json::object{{"type", "shout"}}).wait_for(10s);
    json::object report{{"type", "report"}};
    if (sent) {
      report["delivered"] = sent->delivered;
      report["gone"] = sent->gone.size();
    }
    (void)ctx.reply(report);
    return response::ok();
  });
  server::backend_server http(app, {}, &auth);
  http.mount("/ws/", room_view);
  ASSERT_TRUE(http.start());

  testing::io_runner io;
  auto gw_ptr = start_local_gateway(io, *db, http.port());
  ASSERT_TRUE(gw_ptr);
  auto& gw = *gw_ptr;

  const std::vector<std::pair<std::string, std::string>> headers{
      {"Origin", fmt::format("http://127.0.0.1:{}", http.port())},
      {"Cookie", "theme=dark"},
      {"Sec-WebSocket-Extensions", "permessage-deflate"}};
  ws_client a(gw.port(), "/dev?channel=room", headers);
  ASSERT_TRUE(a.ok()) << a.status();

  // b connects; its $connect blocks until released.
  std::unique_ptr<ws_client> b;
  std::jthread connecting([&] { b = std::make_unique<ws_client>(gw.port(), "/dev?channel=room&slow=1", headers); });
  auto entered_future = entered.get_future();
  ASSERT_EQ(entered_future.wait_for(10s), std::future_status::ready);

  a.send(R"({"handler":"shout"})");
  EXPECT_EQ(a.read(), R"({"type":"shout"})");
  auto report = a.read();
  ASSERT_TRUE(report);
  EXPECT_EQ(*report, R"({"type":"report","delivered":1,"gone":1})") << "b answered 410 while connecting";
  auto members = db->page(store::session_query{}.in_channel("room"), 0, 10);
  ASSERT_TRUE(members);
  ASSERT_EQ(members->size(), 2U);
  EXPECT_TRUE((*members)[1].connected) << "the 410 did not mark the connecting session";

  release.set_value();
  connecting.join();  // (a jthread: also joined if an assertion returns early)
  ASSERT_TRUE(b && b->ok()) << (b ? b->status() : 0);

  a.send(R"({"handler":"shout"})");
  EXPECT_EQ(b->read(), R"({"type":"shout"})") << "b gets later channel sends";
  EXPECT_EQ(a.read(), R"({"type":"shout"})");
  EXPECT_EQ(a.read(), R"({"type":"report","delivered":2,"gone":0})");

  a.close();
  b->close();
  io.run(gw.shutdown(1s));
  http.shutdown();
}

// captured_log: the lines a logger wrote, and a way to wait for one.
class captured_log {
 public:
  logging::logger logger(logging::format f) {
    return logging::logger(
        [this](std::string_view line) {
          std::lock_guard lock(mu_);
          lines_.emplace_back(line);
          cv_.notify_all();
        },
        logging::level::debug, f);
  }
  // wait_for: the first line `pred` accepts, waiting up to 10 s for it to be written.
  std::optional<std::string> wait_for(const std::function<bool(const std::string&)>& pred) {
    std::unique_lock lock(mu_);
    std::optional<std::string> found;
    cv_.wait_for(lock, 10s, [&] {
      for (const auto& l : lines_) {
        if (pred(l)) found = l;
      }
      return found.has_value();
    });
    return found;
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

// fields_of: a log line's fields, from either format (logfmt parsed here: key=value or
// key="escaped value"; JSON values as text).
std::map<std::string, std::string> fields_of(std::string_view line, logging::format f) {
  std::map<std::string, std::string> out;
  if (f == logging::format::json) {
    auto o = parse_json_object(line);
    if (!o) return out;
    for (const auto& [k, v] : *o) {
      out[std::string(k)] = v.is_string() ? std::string(v.as_string()) : std::string(json::serialize(v));
    }
    return out;
  }
  std::size_t i = 0;
  while (i < line.size()) {
    const auto eq = line.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key(line.substr(i, eq - i));
    std::string value;
    i = eq + 1;
    if (i < line.size() && line[i] == '"') {
      for (++i; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) ++i;
        value += line[i];
      }
      ++i;
    } else {
      const auto end = std::min(line.find(' ', i), line.size());
      value = std::string(line.substr(i, end - i));
      i = end;
    }
    out[std::move(key)] = std::move(value);
    while (i < line.size() && line[i] == ' ') ++i;
  }
  return out;
}

// is_aws_trace_id: "Root=1-<8 hex>-<24 hex>", the form API Gateway sends.
bool is_aws_trace_id(std::string_view t) {
  const auto hex = [](std::string_view s) {
    return std::ranges::all_of(s, [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  };
  return t.size() == 7 + 8 + 1 + 24 && t.starts_with("Root=1-") && hex(t.substr(7, 8)) && t[15] == '-' &&
         hex(t.substr(16));
}

// One message through the gateway to the backend, both logging in `f`: the backend's access line
// for it carries the trace id and request id the gateway's integration line carries, which are the
// X-Amzn-Trace-Id and X-Request-Id the handler received. Every line of both logs parses.
class gateway_logs : public gateway_e2e {
 protected:
  void trace_ids_join_the_logs(logging::format f);
};

void gateway_logs::trace_ids_join_the_logs(logging::format f) {
  captured_log gateway_log;
  captured_log backend_log;
  dispatch::backend_options options;
  options.security.use_ws_token = false;
  options.log = backend_log.logger(f);
  auto app = make_backend(options, true);
  std::mutex mu;
  std::string seen_trace;
  std::string seen_request;
  view v;
  v.handle("echo", [&](request_context& ctx) {
    {
      std::lock_guard lock(mu);
      seen_trace = std::string(ctx.header("X-Amzn-Trace-Id").value_or(""));
      seen_request = std::string(ctx.header("X-Request-Id").value_or(""));
    }
    (void)ctx.reply(json::object{{"echo", ctx.body().at("text")}});
    return response::ok();
  });
  server::backend_server http(*app, {}, auth_.get());
  http.mount("/ws/", v);
  ASSERT_TRUE(http.start());
  testing::io_runner io;
  auto gw = start_local_gateway(io, *db_, http.port(), gateway_log.logger(f), true);
  ASSERT_TRUE(gw);

  ws_client ws(gw->port(), "/dev",
               {{"Origin", fmt::format("http://127.0.0.1:{}", http.port())},
                {"Cookie", "theme=dark"},
                {"Sec-WebSocket-Extensions", "permessage-deflate"}});
  ASSERT_TRUE(ws.ok()) << ws.status();
  ws.send(R"({"handler":"echo","text":"line one\nline \"two\""})");
  ASSERT_EQ(ws.read(), R"({"echo":"line one\nline \"two\""})");

  const auto msg_is = [f](std::string_view msg, std::string_view route) {
    return [f, msg, route](const std::string& l) {
      auto m = fields_of(l, f);
      return m["msg"] == msg && m["route"] == route;
    };
  };
  const auto gw_line = gateway_log.wait_for(msg_is("integration", "$default"));
  const auto be_line = backend_log.wait_for(msg_is("request", "default"));
  ASSERT_TRUE(gw_line) << "no integration line from the gateway";
  ASSERT_TRUE(be_line) << "no access line from the backend";
  auto g = fields_of(*gw_line, f);
  auto b = fields_of(*be_line, f);
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(is_aws_trace_id(seen_trace)) << seen_trace;
    EXPECT_EQ(g["trace_id"], seen_trace) << *gw_line;
    EXPECT_EQ(b["trace_id"], seen_trace) << *be_line;
    EXPECT_FALSE(seen_request.empty());
    EXPECT_EQ(g["request_id"], seen_request) << *gw_line;
    EXPECT_EQ(b["request_id"], seen_request) << *be_line;
  }
  EXPECT_FALSE(g["connection_id"].empty());
  EXPECT_EQ(b["connection_id"], g["connection_id"]);
  EXPECT_EQ(b["handler"], "echo");
  EXPECT_EQ(g["status"], "200");
  EXPECT_EQ(b["status"], "200");
  EXPECT_EQ(g["level"], "info");
  EXPECT_FALSE(g["duration_ms"].empty());
  EXPECT_FALSE(b["duration_ms"].empty());

  // $connect too: a different trace id, the same one on both sides.
  const auto gw_connect = gateway_log.wait_for(msg_is("integration", "$connect"));
  const auto be_connect = backend_log.wait_for(msg_is("request", "connect"));
  ASSERT_TRUE(gw_connect && be_connect);
  EXPECT_EQ(fields_of(*gw_connect, f)["trace_id"], fields_of(*be_connect, f)["trace_id"]);
  EXPECT_NE(fields_of(*gw_connect, f)["trace_id"], seen_trace);

  ws.close();
  ASSERT_TRUE(backend_log.wait_for(msg_is("request", "disconnect")));
  io.run(gw->shutdown(1s));
  http.shutdown();

  // Every line of both logs is one well-formed line of the format, with ts, level and msg.
  for (auto* log : {&gateway_log, &backend_log}) {
    const auto lines = log->lines();
    EXPECT_GE(lines.size(), 3U);
    for (const auto& l : lines) {
      EXPECT_EQ(l.find('\n'), std::string::npos) << l;
      if (f == logging::format::json) {
        EXPECT_TRUE(parse_json_object(l)) << l;
      }
      auto m = fields_of(l, f);
      EXPECT_TRUE(m.contains("ts") && m.contains("level") && m.contains("msg")) << l;
    }
  }
}

TEST_F(gateway_logs, the_backend_logs_the_trace_id_the_gateway_sent) {
  trace_ids_join_the_logs(logging::format::text);
}

TEST_F(gateway_logs, both_logs_in_json_parse_line_by_line) {
  trace_ids_join_the_logs(logging::format::json);
}

}  // namespace
}  // namespace apigw
