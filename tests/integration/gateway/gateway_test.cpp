// Integration tests of the local gateway: a real gateway on 127.0.0.1 (port 0), a recording HTTP
// backend (net::http_server) that keeps every integration request, WebSocket clients (Beast), and
// raw @connections calls (net::http_client_pool). Asserts headers, query strings and bodies per
// route (spec §3), error frames (§1.4), close codes (§1.3), $disconnect once per cause (§1.5) and
// the Management API's codes (§5). (Over 600 lines on purpose: it is the gateway's behaviour
// contract, section by section in the spec's order, on one shared fixture.)
#include "apigw/gateway/gateway.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/net/http_server.hpp"
#include "support/io_runner.hpp"
#include "support/ws_client.hpp"
#include "support/ws_frames.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include <sys/socket.h>

namespace apigw::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

const std::string k_id_regex = "[A-Za-z0-9_-]{15}=";

// recording_backend: an HTTP backend that records every request and answers per path.
class recording_backend {
 public:
  explicit recording_backend(asio::any_io_executor ex)
      : server_(ex, [this](net::incoming_request r) { return handle(std::move(r)); }) {
    EXPECT_TRUE(server_.start());
  }

  std::uint16_t port() const { return server_.port(); }

  // wait: the first `n` requests whose path starts with `prefix`, waiting up to `timeout`.
  std::vector<net::incoming_request> wait(std::string_view prefix, std::size_t n = 1,
                                          std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return matching(prefix).size() >= n; });
    return matching(prefix);
  }

  // count: how many requests so far had a path starting with `prefix`.
  std::size_t count(std::string_view prefix) {
    std::lock_guard lock(mu_);
    return matching(prefix).size();
  }

 private:
  std::vector<net::incoming_request> matching(std::string_view prefix) const {
    std::vector<net::incoming_request> out;
    for (const auto& r : requests_) {
      if (r.target.starts_with(prefix)) out.push_back(r);
    }
    return out;
  }

  asio::awaitable<std::optional<net::http_response>> handle(net::incoming_request r) {
    {
      std::lock_guard lock(mu_);
      requests_.push_back(r);
    }
    cv_.notify_all();
    net::http_response resp;
    resp.status = 200;
    const std::string& t = r.target;
    if (t.starts_with("/ws/echo")) resp.body = "echo:" + r.body;
    if (t.starts_with("/ws/fail")) resp.status = 500;
    if (t.starts_with("/ws/slow") || t.find("slow=1") != std::string::npos) {
      asio::steady_timer timer(co_await asio::this_coro::executor, 2s);
      co_await timer.async_wait(asio::use_awaitable);
    }
    if (t.find("reject=401") != std::string::npos) resp.status = 401;
    if (t.find("proto=1") != std::string::npos) {
      resp.headers.push_back({"Sec-WebSocket-Protocol", "chat"});
      resp.headers.push_back({"Set-Cookie", "session=abc; Path=/"});
    }
    co_return resp;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<net::incoming_request> requests_;
  net::http_server server_;
};

// ws_client: a blocking WebSocket client on its own io_context; every operation has a timeout.
class ws_client {
 public:
  // connect: the handshake; `status` is the server's HTTP status (101 on success).
  ws_client(std::uint16_t port, const std::string& target,
            std::vector<std::pair<std::string, std::string>> headers = {})
      : ws_(io_) {
    auto& lowest = beast::get_lowest_layer(ws_);
    lowest.expires_after(10s);
    lowest.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    lowest.expires_never();
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [n, v] : headers) req.set(n, v);
    }));
    ws_.auto_fragment(false);
    ws_.read_message_max(0);
    ws_.control_callback([pongs = pongs_](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) ++*pongs;
    });
    bool done = false;
    ws_.async_handshake(response_, fmt::format("127.0.0.1:{}", port), target, [&](boost::system::error_code ec) {
      handshake_error = ec;
      done = true;
    });
    run_until(done, 10s);
    status = response_.result_int();
  }

  unsigned status = 0;
  boost::system::error_code handshake_error;
  const websocket::response_type& response() const { return response_; }
  bool ok() const { return !handshake_error && status == 101; }

  void send(std::string_view text, bool binary = false) {
    ws_.binary(binary);
    bool done = false;
    boost::system::error_code err;
    ws_.async_write(asio::buffer(text.data(), text.size()), [&](boost::system::error_code ec, std::size_t) {
      err = ec;
      done = true;
    });
    run_until(done, 10s);
    ASSERT_FALSE(err) << err.message();
  }

  // send_fragmented: one message in frames of `frame` bytes.
  void send_fragmented(const std::string& text, std::size_t frame) {
    ws_.binary(false);
    for (std::size_t off = 0; off < text.size(); off += frame) {
      const bool last = off + frame >= text.size();
      bool done = false;
      boost::system::error_code err;
      ws_.async_write_some(last, asio::buffer(text.data() + off, std::min(frame, text.size() - off)),
                           [&](boost::system::error_code ec, std::size_t) {
                             err = ec;
                             done = true;
                           });
      run_until(done, 10s);
      if (err) return;  // the server may already have closed
    }
  }

  // read: the next message, or nullopt on timeout or close (then close_code() is set).
  std::optional<std::string> read(std::chrono::milliseconds timeout = 5s) {
    beast::flat_buffer buf;
    bool done = false;
    boost::system::error_code err;
    ws_.async_read(buf, [&](boost::system::error_code ec, std::size_t) {
      err = ec;
      done = true;
    });
    if (!run_until(done, timeout)) return std::nullopt;
    if (err) {
      last_error_ = err;
      return std::nullopt;
    }
    return beast::buffers_to_string(buf.data());
  }

  // close_code: reads until the server closes; the code it sent (0 when none arrived in time).
  int wait_close(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto m = read(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (!m && last_error_) {
        // The close frame may have arrived before a transport error (the server tears down
        // while this client was still writing).
        if (last_error_ == websocket::error::closed || ws_.reason().code != websocket::close_code::none) {
          return static_cast<int>(ws_.reason().code);
        }
        ADD_FAILURE() << "read failed: " << last_error_.message();
        return -1;
      }
      if (!m) break;
    }
    return 0;
  }

  // send_raw: bytes straight onto the socket (frames built by masked_frame), all in one write,
  // so several frames reach the gateway together.
  void send_raw(const std::string& bytes) {
    bool done = false;
    boost::system::error_code err;
    asio::async_write(beast::get_lowest_layer(ws_), asio::buffer(bytes),
                      [&](boost::system::error_code ec, std::size_t) {
                        err = ec;
                        done = true;
                      });
    run_until(done, 10s);
    ASSERT_FALSE(err) << err.message();
  }

  // pongs: the pong frames received so far (counted while reading).
  std::size_t pongs() const { return *pongs_; }

  void close(std::uint16_t code = 1000) {
    bool done = false;
    websocket::close_reason r;
    r.code = code;
    ws_.async_close(r, [&](boost::system::error_code) { done = true; });
    run_until(done, 5s);
  }

 private:
  bool run_until(bool& done, std::chrono::milliseconds timeout) {
    return apigw::testing::run_until(io_, ws_, done, timeout);
  }

  asio::io_context io_;
  websocket::stream<beast::tcp_stream> ws_;
  websocket::response_type response_;
  boost::system::error_code last_error_;
  std::shared_ptr<std::size_t> pongs_ = std::make_shared<std::size_t>(0);
};

using apigw::testing::masked_frame;

// junk_backend: accepts connections and answers each with bytes that are not HTTP.
class junk_backend {
 public:
  junk_backend() : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] {
      for (;;) {
        boost::system::error_code ec;
        asio::ip::tcp::socket s(io_);
        acceptor_.accept(s, ec);
        if (ec) return;
        char buf[4096];
        s.read_some(asio::buffer(buf), ec);
        asio::write(s, asio::buffer(std::string_view("\x01\x02 this is not HTTP\r\n\r\n")), ec);
      }
    });
  }
  ~junk_backend() {
    // shutdown() wakes the blocking accept(); close() alone would not.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    thread_.join();
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

std::string test_config(std::uint16_t backend, std::uint16_t dead, std::uint16_t junk) {
  const std::string b = fmt::format("http://127.0.0.1:{}", backend);
  return fmt::format(R"({{
  "region": "us-east-1",
  "apis": [{{
    "apiId": "testapi001", "name": "test", "routeSelectionExpression": "$request.body.action",
    "stages": [{{"stageName": "dev", "stageVariables": {{"color": "blue"}}}}],
    "integrations": [
      {{"integrationId": "connect1", "integrationType": "HTTP_PROXY", "integrationUri": "{b}/ws/connect",
        "timeoutInMillis": 1000,
        "requestParameters": {{"integration.request.header.connectionId": "context.connectionId",
                               "integration.request.header.X-Token": "route.request.querystring.ws_token",
                               "integration.request.header.X-Origin": "route.request.header.Origin"}}}},
      {{"integrationId": "discon1", "integrationUri": "{b}/ws/disconnect",
        "requestParameters": {{"integration.request.header.connectionId": "context.connectionId",
                               "integration.request.header.X-Disconnect-Status": "context.disconnectStatusCode",
                               "integration.request.header.X-Disconnect-Reason": "context.disconnectReason"}}}},
      {{"integrationId": "default1", "integrationUri": "{b}/ws/default",
        "requestParameters": {{"integration.request.header.connectionId": "context.connectionId"}}}},
      {{"integrationId": "send1", "integrationUri": "{b}/ws/sendmessage?v=1",
        "requestParameters": {{"integration.request.header.connectionId": "context.connectionId",
                               "integration.request.header.X-Static": "'fixed value'",
                               "integration.request.header.X-Color": "stageVariables.color",
                               "integration.request.header.X-Route": "context.routeKey",
                               "integration.request.header.X-Token": "route.request.querystring.ws_token",
                               "integration.request.querystring.room": "route.request.body.room"}}}},
      {{"integrationId": "echo1", "integrationUri": "{b}/ws/echo"}},
      {{"integrationId": "slow1", "integrationUri": "{b}/ws/slow", "timeoutInMillis": 300}},
      {{"integrationId": "fail1", "integrationUri": "{b}/ws/fail"}},
      {{"integrationId": "down1", "integrationUri": "http://127.0.0.1:{dead}/ws/down"}},
      {{"integrationId": "junk1", "integrationUri": "http://127.0.0.1:{junk}/ws/junk"}},
      {{"integrationId": "mock1", "integrationType": "MOCK",
        "requestTemplates": {{"$default": "{{\"statusCode\": 200}}"}}, "templateSelectionExpression": "\\$default",
        "integrationResponses": [{{"integrationResponseKey": "$default", "responseTemplates":
          {{"$default": "{{\"type\":\"heartbeat\",\"connectionId\":\"$context.connectionId\",\"route\":\"${{context.routeKey}}\"}}"}}}}]}},
      {{"integrationId": "mock404", "integrationType": "MOCK",
        "requestTemplates": {{"application/json": "{{\"statusCode\": 404}}"}},
        "integrationResponses": [{{"integrationResponseKey": "/2\\d\\d/", "responseTemplates": {{"$default": "fine"}}}},
                                 {{"integrationResponseKey": "/4\\d\\d/", "responseTemplates": {{"$default": "missing $input.body"}}}}]}},
      {{"integrationId": "mocknotemplate", "integrationType": "MOCK"}}
    ],
    "routes": [
      {{"routeKey": "$connect", "target": "integrations/connect1"}},
      {{"routeKey": "$disconnect", "target": "integrations/discon1"}},
      {{"routeKey": "$default", "target": "integrations/default1"}},
      {{"routeKey": "sendmessage", "target": "integrations/send1"}},
      {{"routeKey": "echo", "target": "integrations/echo1", "routeResponseSelectionExpression": "$default",
        "routeResponses": [{{"routeResponseKey": "$default"}}]}},
      {{"routeKey": "1", "target": "integrations/echo1", "routeResponseSelectionExpression": "$default",
        "routeResponses": [{{"routeResponseKey": "$default"}}]}},
      {{"routeKey": "oneway", "target": "integrations/echo1"}},
      {{"routeKey": "slow", "target": "integrations/slow1"}},
      {{"routeKey": "fail", "target": "integrations/fail1"}},
      {{"routeKey": "down", "target": "integrations/down1"}},
      {{"routeKey": "junk", "target": "integrations/junk1"}},
      {{"routeKey": "heartbeat", "target": "integrations/mock1", "routeResponseSelectionExpression": "$default",
        "routeResponses": [{{"routeResponseKey": "$default"}}]}},
      {{"routeKey": "mockoneway", "target": "integrations/mock1"}},
      {{"routeKey": "mock404", "target": "integrations/mock404", "routeResponseSelectionExpression": "$default",
        "routeResponses": [{{"routeResponseKey": "$default"}}]}},
      {{"routeKey": "mocknotemplate", "target": "integrations/mocknotemplate",
        "routeResponseSelectionExpression": "$default", "routeResponses": [{{"routeResponseKey": "$default"}}]}}
    ]
  }}, {{
    "apiId": "strictapi1", "routeSelectionExpression": "${{request.body.service}}/${{request.body.action}}",
    "stages": [{{"stageName": "strict"}}],
    "integrations": [{{"integrationId": "echo2", "integrationUri": "{b}/ws/echo"}}],
    "routes": [{{"routeKey": "chat/join", "target": "integrations/echo2",
                 "routeResponseSelectionExpression": "$default", "routeResponses": [{{"routeResponseKey": "$default"}}]}}]
  }}]
}})",
                     fmt::arg("b", b), fmt::arg("dead", dead), fmt::arg("junk", junk));
}

class GatewayTest : public ::testing::Test {
 protected:
  void start(std::function<void(gateway_options&)> tweak = {}) {
    auto cfg = parse_gateway_config(test_config(backend.port(), free_port(), junk.port()));
    ASSERT_TRUE(cfg) << cfg.error().message;
    gateway_options o;
    o.port = 0;
    o.log = [](std::string_view) {};
    if (tweak) tweak(o);
    gw = std::make_unique<gateway>(io.executor(), std::move(*cfg), std::move(o));
    ASSERT_TRUE(gw->start());
  }

  // start_sharded: the listener on `io`, the connections spread over two shards of one thread each.
  void start_sharded() {
    auto cfg = parse_gateway_config(test_config(backend.port(), free_port(), junk.port()));
    ASSERT_TRUE(cfg) << cfg.error().message;
    gateway_options o;
    o.port = 0;
    o.log = [](std::string_view) {};
    gw = std::make_unique<gateway>(io.executor(),
                                   std::vector<asio::io_context::executor_type>{shard_a.context().get_executor(),
                                                                                shard_b.context().get_executor()},
                                   std::move(*cfg), std::move(o));
    ASSERT_TRUE(gw->start());
  }

  void TearDown() override {
    if (gw) io.run(gw->shutdown(2s));
  }

  // connect: a client on /dev that passed $connect; returns it and its connection id.
  std::pair<std::unique_ptr<ws_client>, std::string> connect(const std::string& query = "") {
    const std::size_t before = backend.count("/ws/connect");
    auto c = std::make_unique<ws_client>(gw->port(), "/dev" + query);
    EXPECT_TRUE(c->ok()) << c->status;
    auto reqs = backend.wait("/ws/connect", before + 1);
    std::string id;
    if (reqs.size() > before) id = std::string(net::find_header(reqs[before].headers, "connectionId").value_or(""));
    return {std::move(c), id};
  }

  // disconnects: the $disconnect requests for `id`, after waiting for the first one.
  std::vector<net::incoming_request> disconnects(const std::string& id, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<net::incoming_request> out;
    while (std::chrono::steady_clock::now() < deadline) {
      out.clear();
      for (auto& r : backend.wait("/ws/disconnect", 0, 0ms)) {
        if (net::find_header(r.headers, "connectionId").value_or("") == id) out.push_back(r);
      }
      if (!out.empty()) break;
      std::this_thread::sleep_for(10ms);
    }
    std::this_thread::sleep_for(100ms);  // a second one would arrive now
    out.clear();
    for (auto& r : backend.wait("/ws/disconnect", 0, 0ms)) {
      if (net::find_header(r.headers, "connectionId").value_or("") == id) out.push_back(r);
    }
    return out;
  }

  // manage: one raw @connections call.
  net::http_response manage(std::string method, std::string target, std::string body = {},
                            net::http_headers headers = {}) {
    net::http_request req;
    req.method = std::move(method);
    req.origin = net::origin{net::scheme::http, "127.0.0.1", gw->port()};
    req.target = std::move(target);
    req.body = std::move(body);
    req.headers = std::move(headers);
    auto r = io.run(client.request(std::move(req)));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? std::move(*r) : net::http_response{};
  }

  static std::string encode_id(std::string_view id) {
    std::string out;
    for (char c : id) out += c == '=' ? std::string("%3D") : std::string(1, c);
    return out;
  }

  junk_backend junk;
  // The shards outlive `io`: its handlers hold the gateway's registry, which has strands on them.
  testing::io_runner shard_a{1};
  testing::io_runner shard_b{1};
  testing::io_runner io{2};
  recording_backend backend{io.executor()};
  net::http_client_pool client{io.executor()};
  std::unique_ptr<gateway> gw;
};

std::string header(const net::incoming_request& r, std::string_view name) {
  return std::string(net::find_header(r.headers, name).value_or("<absent>"));
}

// --- $connect ----------------------------------------------------------------------------------

TEST_F(GatewayTest, ConnectForwardsClientHeadersQueryAndMappings) {
  start();
  ws_client c(gw->port(), "/dev?channel=general&ws_token=tok123",
              {{"User-Agent", "test-agent/1.0"},
               {"Origin", "https://app.example.com"},
               {"Cookie", "sid=1"},
               {"X-Custom", "custom-value"}});
  ASSERT_TRUE(c.ok()) << c.status;
  auto reqs = backend.wait("/ws/connect");
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/ws/connect?channel=general&ws_token=tok123");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(header(r, "Content-Length"), "0");
  EXPECT_EQ(header(r, "Host"), fmt::format("127.0.0.1:{}", backend.port()));
  EXPECT_EQ(header(r, "User-Agent"), "test-agent/1.0");
  EXPECT_EQ(header(r, "Origin"), "https://app.example.com");
  EXPECT_EQ(header(r, "Cookie"), "sid=1");
  EXPECT_EQ(header(r, "X-Custom"), "custom-value");
  EXPECT_EQ(header(r, "Sec-WebSocket-Version"), "13");
  EXPECT_NE(header(r, "Sec-WebSocket-Key"), "<absent>");
  EXPECT_EQ(header(r, "Connection"), "<absent>");
  EXPECT_EQ(header(r, "Upgrade"), "<absent>");
  EXPECT_EQ(header(r, "X-Amzn-Apigateway-Api-Id"), "testapi001");
  EXPECT_THAT(header(r, "X-Amzn-Trace-Id"), MatchesRegex("Root=1-[0-9a-f]{8}-[0-9a-f]{24}"));
  EXPECT_EQ(header(r, "X-Forwarded-For"), "127.0.0.1");
  EXPECT_EQ(header(r, "X-Forwarded-Proto"), "https");
  EXPECT_EQ(header(r, "X-Forwarded-Port"), "443");
  EXPECT_THAT(header(r, "connectionId"), MatchesRegex(k_id_regex));
  EXPECT_EQ(header(r, "X-Token"), "tok123");
  EXPECT_EQ(header(r, "X-Origin"), "https://app.example.com");
}

TEST_F(GatewayTest, ConnectRejectedWithBackendStatusAndNoDisconnect) {
  start();
  ws_client c(gw->port(), "/dev?reject=401");
  EXPECT_EQ(c.status, 401u);
  auto reqs = backend.wait("/ws/connect");
  ASSERT_EQ(reqs.size(), 1u);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(backend.count("/ws/disconnect"), 0u);
}

TEST_F(GatewayTest, ConnectCopiesSubprotocolAndSetCookie) {
  start();
  ws_client c(gw->port(), "/dev?proto=1", {{"Sec-WebSocket-Protocol", "chat, superchat"}});
  ASSERT_TRUE(c.ok()) << c.status;
  EXPECT_EQ(c.response()["Sec-WebSocket-Protocol"], "chat");
  EXPECT_EQ(c.response()["Set-Cookie"], "session=abc; Path=/");
  EXPECT_EQ(c.response()["Sec-WebSocket-Extensions"], "");  // no permessage-deflate
}

TEST_F(GatewayTest, ConnectTimeoutGives504) {
  start();
  ws_client c(gw->port(), "/dev?slow=1");
  EXPECT_EQ(c.status, 504u);
}

TEST_F(GatewayTest, NoConnectRouteAccepts) {
  start();
  ws_client c(gw->port(), "/strict");
  EXPECT_TRUE(c.ok()) << c.status;
}

TEST_F(GatewayTest, MalformedHandshakes) {
  start();
  auto raw = [&](std::string request) {
    asio::io_context ctx;
    asio::ip::tcp::socket s(ctx);
    s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), gw->port()));
    asio::write(s, asio::buffer(request));
    std::string answer;
    boost::system::error_code ec;
    char buf[1024];
    for (;;) {
      const auto n = s.read_some(asio::buffer(buf), ec);
      answer.append(buf, n);
      if (ec) break;
    }
    return answer.substr(0, answer.find("\r\n"));
  };
  EXPECT_EQ(raw("GET /dev HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"),
            "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(raw("GET /dev HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"),
            "HTTP/1.1 426 Upgrade Required");
  EXPECT_EQ(raw("NOT HTTP AT ALL\r\n\r\n"), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(backend.count("/ws/connect"), 0u);
}

TEST_F(GatewayTest, ClientThatNeverReadsIsCutAndDisconnected) {
  start([](gateway_options& o) {
    o.limits.max_outbound_bytes = 256 * 1024 * 1024;
    o.limits.write_timeout = 300ms;
  });
  auto [c, id] = connect();  // never reads
  const std::string chunk(128 * 1024, 'z');
  for (int i = 0; i < 400 && backend.count("/ws/disconnect") == 0; ++i) {
    const auto status = manage("POST", "/dev/@connections/" + encode_id(id), chunk).status;
    if (status == 410) break;
    ASSERT_EQ(status, 200u);
  }
  auto d = disconnects(id);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(header(d[0], "X-Disconnect-Status"), "1006");
}

TEST_F(GatewayTest, UnknownStageIs403AndPlainGetIs426) {
  start();
  ws_client c(gw->port(), "/nostage");
  EXPECT_EQ(c.status, 403u);
  auto r = manage("GET", "/dev");
  EXPECT_EQ(r.status, 426u);
}

// --- routing and message integrations ------------------------------------------------------------

TEST_F(GatewayTest, MessageRouteGetsExactHeadersBodyAndMappings) {
  start();
  auto [c, id] = connect("?ws_token=tok");
  const std::string msg = R"({"action":"sendmessage","room":"lobby 1","text":"hi"})";
  c->send(msg);
  auto reqs = backend.wait("/ws/sendmessage");
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/ws/sendmessage?v=1&room=lobby%201");
  EXPECT_EQ(r.body, msg);
  EXPECT_EQ(header(r, "Content-Type"), "application/json");
  EXPECT_EQ(header(r, "Content-Length"), std::to_string(msg.size()));
  EXPECT_EQ(header(r, "User-Agent"), "AmazonAPIGateway_testapi001");
  EXPECT_EQ(header(r, "X-Amzn-Apigateway-Api-Id"), "testapi001");
  EXPECT_EQ(header(r, "X-Forwarded-For"), "127.0.0.1");
  EXPECT_EQ(header(r, "X-Forwarded-Proto"), "https");
  EXPECT_EQ(header(r, "X-Forwarded-Port"), "443");
  EXPECT_THAT(header(r, "X-Amzn-Trace-Id"), MatchesRegex("Root=1-[0-9a-f]{8}-[0-9a-f]{24}"));
  EXPECT_EQ(header(r, "connectionId"), id);
  EXPECT_EQ(header(r, "X-Static"), "fixed value");
  EXPECT_EQ(header(r, "X-Color"), "blue");
  EXPECT_EQ(header(r, "X-Route"), "sendmessage");
  EXPECT_EQ(header(r, "X-Token"), "<absent>");  // route.request.* exists on $connect only
  EXPECT_EQ(header(r, "Origin"), "<absent>");
  EXPECT_EQ(header(r, "Sec-WebSocket-Key"), "<absent>");
  // One-way route: nothing comes back.
  EXPECT_FALSE(c->read(300ms));
}

TEST_F(GatewayTest, NonJsonAndUnknownActionGoToDefault) {
  start();
  auto [c, id] = connect();
  c->send("plain text, not JSON");
  c->send(R"({"action":"nosuchroute"})");
  c->send(R"([1,2,3])");
  auto reqs = backend.wait("/ws/default", 3);
  ASSERT_EQ(reqs.size(), 3u);
  // Each message is an integration call of its own, on its own pooled connection, so they may
  // reach the backend in any order (AWS does not order them either): sorted by body here.
  std::sort(reqs.begin(), reqs.end(), [](const auto& a, const auto& b) { return a.body < b.body; });
  EXPECT_EQ(reqs[0].body, "[1,2,3]");
  EXPECT_EQ(reqs[1].body, "plain text, not JSON");
  EXPECT_EQ(header(reqs[1], "Content-Type"), "text/plain");
  EXPECT_EQ(header(reqs[1], "User-Agent"), "AmazonAPIGateway_testapi001");
  EXPECT_EQ(reqs[2].body, R"({"action":"nosuchroute"})");
}

TEST_F(GatewayTest, TwoWayRouteSendsBodyBackAndNumbersAreStringified) {
  start();
  auto [c, id] = connect();
  c->send(R"({"action":"echo","n":1})");
  EXPECT_EQ(c->read(), R"(echo:{"action":"echo","n":1})");
  c->send(R"({"action":1})");
  EXPECT_EQ(c->read(), R"(echo:{"action":1})");
  c->send(R"({"action":"oneway"})");
  EXPECT_FALSE(c->read(300ms));
}

TEST_F(GatewayTest, CompositeSelectionExpressionAndForbiddenFrame) {
  start();
  ws_client c(gw->port(), "/strict");
  ASSERT_TRUE(c.ok());
  c.send(R"({"service":"chat","action":"join"})");
  EXPECT_EQ(c.read(), R"(echo:{"service":"chat","action":"join"})");
  c.send(R"({"action":"nope"})");
  auto frame = c.read();
  ASSERT_TRUE(frame);
  EXPECT_THAT(*frame, MatchesRegex(R"(\{"message": "Forbidden", "connectionId":")" + k_id_regex +
                                   R"(", "requestId":")" + k_id_regex + R"("\})"));
  c.send("not json");  // no $default either
  auto frame2 = c.read();
  ASSERT_TRUE(frame2);
  EXPECT_THAT(*frame2, HasSubstr(R"("message": "Forbidden")"));
}

TEST_F(GatewayTest, ErrorFramesAndTheSocketStaysOpen) {
  start();
  auto [c, id] = connect();
  c->send(R"({"action":"fail"})");
  auto f1 = c->read();
  ASSERT_TRUE(f1);
  EXPECT_THAT(*f1, MatchesRegex(R"(\{"message": "Internal server error", "connectionId":")" + id +
                                R"(", "requestId":")" + k_id_regex + R"("\})"));
  c->send(R"({"action":"down"})");
  auto f2 = c->read();
  ASSERT_TRUE(f2);
  EXPECT_THAT(*f2, HasSubstr(R"({"message": "Internal server error", "connectionId":")"));
  c->send(R"({"action":"junk"})");
  auto garbage = c->read();
  ASSERT_TRUE(garbage);
  EXPECT_THAT(*garbage, HasSubstr(R"({"message": "Internal server error", "connectionId":")"));
  c->send(R"({"action":"slow"})");
  auto f3 = c->read(3s);
  ASSERT_TRUE(f3);
  EXPECT_THAT(*f3, HasSubstr(R"({"message": "Endpoint request timed out", "connectionId":")"));
  c->send(R"({"action":"echo"})");
  EXPECT_EQ(c->read(), R"(echo:{"action":"echo"})");
}

// --- MOCK integrations -----------------------------------------------------------------------------

TEST_F(GatewayTest, MockRoutesAnswerWithoutCallingTheBackend) {
  start();
  auto [c, id] = connect();
  const std::size_t before = backend.count("/");
  // Two-way: the $default integration response's template, $context substituted.
  for (int i = 0; i < 20; ++i) {
    c->send(R"({"action":"heartbeat"})");
    EXPECT_EQ(c->read(), R"({"type":"heartbeat","connectionId":")" + id + R"(","route":"heartbeat"})");
  }
  // One-way (no route response): nothing comes back; the next frame is the echo sent after it
  // (an answer to the MOCK route, made at once, would have come first).
  c->send(R"({"action":"mockoneway"})");
  c->send(R"({"action":"echo"})");
  EXPECT_EQ(c->read(), R"(echo:{"action":"echo"})");
  // The status code of the only request template picks the /4\d\d/ integration response.
  c->send(R"({"action":"mock404"})");
  EXPECT_EQ(c->read(), R"(missing {"action":"mock404"})");
  // No request template: the message itself is passed through and has no statusCode.
  c->send(R"({"action":"mocknotemplate"})");
  auto f = c->read();
  ASSERT_TRUE(f);
  EXPECT_THAT(*f, HasSubstr(R"({"message": "Internal server error", "connectionId":")"));
  // With a statusCode in the message there is still no integration response to answer with.
  c->send(R"({"action":"mocknotemplate","statusCode":200})");
  auto g = c->read();
  ASSERT_TRUE(g);
  EXPECT_THAT(*g, HasSubstr(R"({"message": "Internal server error", "connectionId":")"));
  // The backend saw the one echo and none of the MOCK messages.
  EXPECT_EQ(backend.count("/"), before + 1);
  EXPECT_EQ(backend.count("/ws/echo"), 1u);
}

// --- close codes and $disconnect -----------------------------------------------------------------

TEST_F(GatewayTest, ClientCloseFiresDisconnectOnceWithItsCode) {
  start();
  auto [c, id] = connect();
  c->close(1000);
  auto d = disconnects(id);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(header(d[0], "X-Disconnect-Status"), "1000");
  EXPECT_EQ(header(d[0], "User-Agent"), "AmazonAPIGateway_testapi001");
  EXPECT_EQ(d[0].body, "");
  EXPECT_EQ(header(d[0], "Content-Length"), "0");
}

TEST_F(GatewayTest, BinaryFrameCloses1003) {
  start();
  auto [c, id] = connect();
  c->send("\x01\x02", true);
  EXPECT_EQ(c->wait_close(), 1003);
  auto d = disconnects(id);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(header(d[0], "X-Disconnect-Status"), "1003");
}

TEST_F(GatewayTest, OversizeFrameCloses1009) {
  start();
  auto [c, id] = connect();
  c->send(std::string(40 * 1024, 'a'));
  EXPECT_EQ(c->wait_close(), 1009);
  EXPECT_EQ(disconnects(id).size(), 1u);
  EXPECT_EQ(backend.count("/ws/default"), 0u);
}

TEST_F(GatewayTest, OversizeMessageInSmallFramesCloses1009) {
  start();
  auto [c, id] = connect();
  c->send_fragmented(std::string(130 * 1024, 'a'), 16 * 1024);
  EXPECT_EQ(c->wait_close(), 1009);
  EXPECT_EQ(disconnects(id).size(), 1u);
}

// An idle connection waits on its socket, not in a Beast read; frames that arrive together (and
// a ping right after a message, with nothing after it) must still all be handled at once.
TEST_F(GatewayTest, FramesArrivingTogetherAreAllHandled) {
  start();
  auto [c, id] = connect();
  c->send_raw(masked_frame(R"({"action":"echo","n":1})") + masked_frame(R"({"action":"echo","n":2})"));
  // Both integrations run at once (as on AWS), so the replies may come in either order.
  std::set<std::string> replies;
  for (int i = 0; i < 2; ++i) replies.insert(c->read().value_or("(none)"));
  EXPECT_EQ(replies, (std::set<std::string>{R"(echo:{"action":"echo","n":1})", R"(echo:{"action":"echo","n":2})"}));
  // A message and a ping in one write, then silence: the pong comes without more data.
  c->send_raw(masked_frame(R"({"action":"echo","n":3})") + masked_frame("p", 0x9));
  // (The gateway answers the ping as soon as it has handed the message on, so the pong is read
  // before the reply, which waits for the backend.)
  EXPECT_EQ(c->read(), R"(echo:{"action":"echo","n":3})");
  EXPECT_EQ(c->pongs(), 1u);
  // A fragmented message with a ping between its fragments, all in one write.
  c->send_raw(masked_frame(R"({"action":"echo",)", 0x1, false) + masked_frame("q", 0x9) +
              masked_frame(R"("n":4})", 0x0, true));
  EXPECT_EQ(c->read(), R"(echo:{"action":"echo","n":4})");
  // And the connection is still served normally afterwards.
  c->send(R"({"action":"echo","n":5})");
  EXPECT_EQ(c->read(), R"(echo:{"action":"echo","n":5})");
  EXPECT_EQ(c->pongs(), 2u);
  EXPECT_EQ(backend.count("/ws/echo"), 5u);
}

// With one message in flight per connection, reading pauses while one waits; none is lost or
// reordered.
TEST_F(GatewayTest, InflightLimitHoldsMessagesInOrder) {
  start([](gateway_options& o) { o.limits.max_inflight_per_connection = 1; });
  auto [c, id] = connect();
  std::string burst;
  for (int i = 1; i <= 6; ++i) burst += masked_frame(fmt::format(R"({{"action":"echo","n":{}}})", i));
  c->send_raw(burst);
  for (int i = 1; i <= 6; ++i) EXPECT_EQ(c->read(), fmt::format(R"(echo:{{"action":"echo","n":{}}})", i));
  c->close();
  EXPECT_EQ(disconnects(id).size(), 1u);
}

TEST_F(GatewayTest, FragmentedMessageUnderLimitsIsOneMessage) {
  start();
  auto [c, id] = connect();
  std::string msg = R"({"action":"echo","pad":")" + std::string(100 * 1024, 'x') + R"("})";
  c->send_fragmented(msg, 30 * 1024);
  EXPECT_EQ(c->read(), "echo:" + msg);
}

TEST_F(GatewayTest, InvalidUtf8Closes1007) {
  start();
  auto [c, id] = connect();
  c->send("\xff\xfe bad");
  EXPECT_EQ(c->wait_close(), 1007);
  EXPECT_EQ(disconnects(id).size(), 1u);
}

TEST_F(GatewayTest, IdleTimeoutClosesWith1001AndFiresDisconnect) {
  start([](gateway_options& o) { o.limits.idle_timeout = 300ms; });
  auto [c, id] = connect();
  EXPECT_EQ(c->wait_close(3s), 1001);
  auto d = disconnects(id);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(header(d[0], "X-Disconnect-Status"), "1001");
  EXPECT_EQ(header(d[0], "X-Disconnect-Reason"), "Going away");
}

TEST_F(GatewayTest, MaxDurationClosesEvenWhenActive) {
  start([](gateway_options& o) { o.limits.max_duration = 500ms; });
  auto [c, id] = connect();
  c->send(R"({"action":"oneway"})");
  EXPECT_EQ(c->wait_close(3s), 1001);
  EXPECT_EQ(disconnects(id).size(), 1u);
}

TEST_F(GatewayTest, DeleteConnectionClosesAnd410Afterwards) {
  start();
  auto [c, id] = connect();
  auto r = manage("DELETE", "/dev/@connections/" + encode_id(id));
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(c->wait_close(), 1000);
  auto d = disconnects(id);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(header(d[0], "X-Disconnect-Status"), "1000");
  auto again = manage("DELETE", "/dev/@connections/" + encode_id(id));
  EXPECT_EQ(again.status, 410u);
  EXPECT_EQ(net::find_header(again.headers, "x-amzn-ErrorType").value_or(""), "GoneException");
}

TEST_F(GatewayTest, ShutdownClosesEveryConnectionAndFiresDisconnect) {
  start();
  auto [a, id_a] = connect();
  auto [b, id_b] = connect();
  auto done = asio::co_spawn(io.context(), gw->shutdown(5s), asio::use_future);
  EXPECT_EQ(a->wait_close(), 1001);
  EXPECT_EQ(b->wait_close(), 1001);
  done.get();
  EXPECT_EQ(disconnects(id_a).size(), 1u);
  EXPECT_EQ(disconnects(id_b).size(), 1u);
  gw.reset();
}

TEST_F(GatewayTest, ShardedGatewayServesEachConnectionOnItsShard) {
  start_sharded();
  std::vector<std::pair<std::unique_ptr<ws_client>, std::string>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(connect());
  for (auto& [c, id] : clients) {
    c->send(R"({"action":"echo","id":")" + id + R"("})");
    EXPECT_EQ(c->read(), R"(echo:{"action":"echo","id":")" + id + R"("})");
    EXPECT_EQ(manage("POST", "/dev/@connections/" + encode_id(id), "to " + id).status, 200u);
    EXPECT_EQ(c->read(), "to " + id);
  }
  // One message at a time would reuse one pooled connection; the shards' own pools make two.
  std::set<std::string> callers;
  for (const auto& r : backend.wait("/ws/echo", 4)) callers.insert(r.remote_address);
  EXPECT_EQ(callers.size(), 2u);
  auto done = asio::co_spawn(io.context(), gw->shutdown(5s), asio::use_future);
  for (auto& [c, id] : clients) EXPECT_EQ(c->wait_close(), 1001);
  done.get();
  for (auto& [c, id] : clients) EXPECT_EQ(disconnects(id).size(), 1u);
  gw.reset();
}

// --- @connections ------------------------------------------------------------------------------

TEST_F(GatewayTest, PostGetAndGone) {
  start();
  auto [c, id] = connect();
  auto post = manage("POST", "/dev/@connections/" + encode_id(id), R"({"hello":"world"})");
  EXPECT_EQ(post.status, 200u);
  EXPECT_THAT(std::string(net::find_header(post.headers, "x-amzn-RequestId").value_or("")), MatchesRegex(k_id_regex));
  EXPECT_EQ(c->read(), R"({"hello":"world"})");

  auto get = manage("GET", "/dev/%40connections/" + encode_id(id));
  EXPECT_EQ(get.status, 200u);
  EXPECT_EQ(net::find_header(get.headers, "Content-Type").value_or(""), "application/json");
  const std::string iso = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z";
  EXPECT_THAT(get.body, MatchesRegex(R"(\{"connectedAt":")" + iso +
                                     R"(","identity":\{"sourceIp":"127.0.0.1","userAgent":"[^"]*"\},"lastActiveAt":")" +
                                     iso + R"("\})"));

  c->close();
  disconnects(id);
  auto gone = manage("POST", "/dev/@connections/" + encode_id(id), "late");
  EXPECT_EQ(gone.status, 410u);
  EXPECT_EQ(gone.body, "");
  EXPECT_EQ(net::find_header(gone.headers, "x-amzn-ErrorType").value_or(""), "GoneException");
  EXPECT_TRUE(net::find_header(gone.headers, "x-amzn-RequestId").has_value());
  EXPECT_EQ(manage("GET", "/dev/@connections/AAAAAAAAAAAAAAA%3D").status, 410u);
  EXPECT_EQ(manage("GET", "/dev/@connections/bad%2").status, 410u);
}

TEST_F(GatewayTest, PayloadTooLargeAndForbidden) {
  start();
  auto [c, id] = connect();
  auto big = manage("POST", "/dev/@connections/" + encode_id(id), std::string(131073, 'a'));
  EXPECT_EQ(big.status, 413u);
  EXPECT_EQ(net::find_header(big.headers, "x-amzn-ErrorType").value_or(""), "PayloadTooLargeException");
  EXPECT_THAT(big.body, HasSubstr(R"("message":)"));
  auto exact = manage("POST", "/dev/@connections/" + encode_id(id), std::string(131072, 'a'));
  EXPECT_EQ(exact.status, 200u);

  for (const std::string& target : {"/nostage/@connections/" + encode_id(id), "/@connections/" + encode_id(id)}) {
    auto f = manage("POST", target, "x");
    EXPECT_EQ(f.status, 403u) << target;
    EXPECT_EQ(net::find_header(f.headers, "x-amzn-ErrorType").value_or(""), "ForbiddenException");
    EXPECT_EQ(f.body, R"({"message":"Forbidden"})");
  }
  auto other_stage = manage("POST", "/strict/@connections/" + encode_id(id), "x");
  EXPECT_EQ(other_stage.status, 410u);
}

// A body over the HTTP reader's limit (4 MiB) is refused before it is read. The client is still
// writing it then: the gateway must read on (and drop it) after answering, or the client gets a
// reset instead of the 413 (the AWS SDK for JavaScript v3 reported EPIPE).
TEST_F(GatewayTest, PostOverTheHttpBodyLimitStillGets413) {
  start();
  auto [c, id] = connect();
  auto huge = manage("POST", "/dev/@connections/" + encode_id(id), std::string(6 * 1024 * 1024, 'a'));
  EXPECT_EQ(huge.status, 413u);
  EXPECT_EQ(net::find_header(huge.headers, "x-amzn-ErrorType").value_or(""), "PayloadTooLargeException");
  EXPECT_THAT(std::string(net::find_header(huge.headers, "x-amzn-RequestId").value_or("")), MatchesRegex(k_id_regex));
  EXPECT_THAT(huge.body, HasSubstr(R"("message":)"));
  auto after = manage("POST", "/dev/@connections/" + encode_id(id), "still open");
  EXPECT_EQ(after.status, 200u);
  EXPECT_EQ(c->read(), "still open");
}

TEST_F(GatewayTest, SlowReaderGets429) {
  start([](gateway_options& o) { o.limits.max_outbound_bytes = 256 * 1024; });
  auto [c, id] = connect();  // never reads
  const std::string chunk(128 * 1024, 'z');
  unsigned last = 0;
  for (int i = 0; i < 2000 && last != 429; ++i)
    last = manage("POST", "/dev/@connections/" + encode_id(id), chunk).status;
  EXPECT_EQ(last, 429u);
  auto r = manage("POST", "/dev/@connections/" + encode_id(id), chunk);
  EXPECT_EQ(net::find_header(r.headers, "x-amzn-ErrorType").value_or(""), "LimitExceededException");
}

TEST_F(GatewayTest, ManagementRateLimitGives429) {
  start([](gateway_options& o) {
    o.limits.management_calls_per_second = 1;
    o.limits.management_calls_burst = 2;
  });
  auto [c, id] = connect();
  std::vector<unsigned> codes;
  for (int i = 0; i < 4; ++i) codes.push_back(manage("GET", "/dev/@connections/" + encode_id(id)).status);
  EXPECT_EQ(codes[0], 200u);
  EXPECT_EQ(codes[3], 429u);
}

TEST_F(GatewayTest, Sigv4ModeRefusesUnsignedCalls) {
  start([](gateway_options& o) { o.auth = auth_mode::sigv4; });
  auto [c, id] = connect();
  auto r = manage("POST", "/dev/@connections/" + encode_id(id), "x");
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(net::find_header(r.headers, "x-amzn-ErrorType").value_or(""), "MissingAuthenticationTokenException");
}

TEST_F(GatewayTest, HeadGetsNoBodyAndTheNextResponseOnTheConnectionParses) {
  start();
  asio::io_context ctx;
  asio::ip::tcp::socket s(ctx);
  s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), gw->port()));
  asio::write(s, asio::buffer(std::string("HEAD /dev/@connections/AAAAAAAAAAAAAAA%3D HTTP/1.1\r\nHost: a\r\n\r\n"
                                          "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")));
  // The HEAD's header, then the GET's header: nothing between them.
  std::string got;
  boost::system::error_code ec;
  asio::read_until(s, asio::dynamic_buffer(got), "\r\n\r\n", ec);
  ASSERT_FALSE(ec) << ec.message();
  const auto first_end = got.find("\r\n\r\n") + 4;
  EXPECT_EQ(got.rfind("HTTP/1.1 403", 0), 0U) << got;
  while (got.find("\r\n\r\n", first_end) == std::string::npos && !ec) {
    std::array<char, 512> more{};
    const auto n = s.read_some(asio::buffer(more), ec);
    got.append(more.data(), n);
  }
  EXPECT_EQ(got.substr(first_end, 12), "HTTP/1.1 200") << "what followed the HEAD answer: " << got.substr(first_end);
}

TEST_F(GatewayTest, MetricsEndpoint) {
  start();
  auto [c, id] = connect();
  c->send(R"({"action":"echo"})");
  c->read();
  manage("GET", "/dev/@connections/" + encode_id(id));
  // A frame is counted when its write completes, which the gateway may learn after the client has
  // read it: ask again until it is counted (a bounded number of times; the figures are exact).
  auto m = manage("GET", "/metrics");
  for (int i = 0; i < 200 && m.body.find("apigw_gateway_messages_out_total 1\n") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    m = manage("GET", "/metrics");
  }
  EXPECT_EQ(m.status, 200u);
  EXPECT_THAT(m.body, HasSubstr("apigw_gateway_connections_open 1\n"));
  EXPECT_THAT(m.body, HasSubstr("apigw_gateway_messages_in_total 1\n"));
  EXPECT_THAT(m.body, HasSubstr("apigw_gateway_messages_out_total 1\n"));
  EXPECT_THAT(m.body, HasSubstr(R"(apigw_gateway_management_calls_total{method="GET",status="200"} 1)"));
  EXPECT_THAT(m.body, HasSubstr("apigw_gateway_integration_latency_seconds_count"));
}

}  // namespace
}  // namespace apigw::gateway
