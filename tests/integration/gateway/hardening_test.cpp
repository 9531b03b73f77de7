// Integration tests of the integration hop under hostile clients: a real gateway on 127.0.0.1
// (port 0), a raw backend socket that records the bytes of every request it is sent (so injected
// header lines and smuggled requests would show up as they arrive, not as a parser sees them),
// and Beast WebSocket clients. A client's value that would break the request (CR, LF, NUL) gets
// the error a failed integration gets, and the backend sees nothing of it; headers the gateway owns
// or maps reach the backend once, with the gateway's value.
#include "apigw/gateway/gateway.hpp"

#include "apigw/core/text.hpp"
#include "support/io_runner.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>

namespace apigw::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;
using ::testing::MatchesRegex;

// raw_request: one request as its bytes arrived, split into the request line and header lines.
struct raw_request {
  std::string bytes;
  std::string request_line;
  std::vector<std::pair<std::string, std::string>> headers;

  // values: every value of header `name` (case-insensitively), in order.
  std::vector<std::string> values(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [n, v] : headers) {
      if (iequals(n, name)) out.push_back(v);
    }
    return out;
  }
};

raw_request split(std::string bytes) {
  raw_request r;
  std::string_view head(bytes);
  head = head.substr(0, head.find("\r\n\r\n"));
  bool first = true;
  while (!head.empty()) {
    const auto eol = head.find("\r\n");
    const auto line = head.substr(0, eol);
    if (first) {
      r.request_line = std::string(line);
      first = false;
    } else {
      const auto colon = line.find(':');
      auto value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    if (eol == std::string_view::npos) break;
    head.remove_prefix(eol + 2);
  }
  r.bytes = std::move(bytes);
  return r;
}

// raw_backend: a blocking HTTP/1.1 backend, one thread per connection, that keeps each request's
// bytes (header block plus Content-Length body) and answers 200 with an empty body.
class raw_backend {
 public:
  raw_backend() : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept_thread_ = std::thread([this] {
      for (;;) {
        auto s = std::make_shared<asio::ip::tcp::socket>(io_);
        boost::system::error_code ec;
        acceptor_.accept(*s, ec);
        if (ec) return;
        std::lock_guard lock(mu_);
        sockets_.push_back(s);
        threads_.emplace_back([this, s] { serve(*s); });
      }
    });
  }

  ~raw_backend() {
    // shutdown() wakes the blocking accept() and reads; close() alone would not.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      for (auto& s : sockets_) ::shutdown(s->native_handle(), SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // wait: every request so far once at least `n` of them have a request line starting with
  // `prefix` (or after 10 s, so a failure shows what did arrive).
  std::vector<raw_request> wait(std::string_view prefix, std::size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 10s, [&] { return matching(prefix) >= n; });
    return requests_;
  }

 private:
  std::size_t matching(std::string_view prefix) const {
    std::size_t count = 0;
    for (const auto& r : requests_) count += r.request_line.starts_with(prefix) ? 1 : 0;
    return count;
  }

  void serve(asio::ip::tcp::socket& s) {
    std::string buffer;
    for (;;) {
      boost::system::error_code ec;
      const std::size_t head = asio::read_until(s, asio::dynamic_buffer(buffer), "\r\n\r\n", ec);
      if (ec) return;
      auto req = split(buffer.substr(0, head));
      std::size_t length = 0;
      for (const auto& v : req.values("Content-Length")) length = std::stoul(v);
      if (buffer.size() < head + length) {
        asio::read(s, asio::dynamic_buffer(buffer), asio::transfer_exactly(head + length - buffer.size()), ec);
        if (ec) return;
      }
      req.bytes = buffer.substr(0, head + length);
      buffer.erase(0, head + length);
      {
        std::lock_guard lock(mu_);
        requests_.push_back(std::move(req));
      }
      cv_.notify_all();
      asio::write(s, asio::buffer(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")), ec);
      if (ec) return;
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread accept_thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<asio::ip::tcp::socket>> sockets_;
  std::vector<std::thread> threads_;
  std::vector<raw_request> requests_;
};

// client: a WebSocket client on its own io_context; every operation gives up after 10 s.
class client {
 public:
  client(std::uint16_t port, const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {})
      : ws_(io_) {
    beast::get_lowest_layer(ws_).connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [n, v] : headers) req.set(n, v);
    }));
    boost::system::error_code err;
    ws_.async_handshake(response_, fmt::format("127.0.0.1:{}", port), target,
                        [&](boost::system::error_code ec) { err = ec; });
    run();
    ok = !err && response_.result_int() == 101;
    status = response_.result_int();
  }

  bool ok = false;
  unsigned status = 0;

  void send(std::string_view text) {
    ws_.async_write(asio::buffer(text.data(), text.size()), [](boost::system::error_code, std::size_t) {});
    run();
  }

  // read: the next message, or "" when none arrives.
  std::string read() {
    beast::flat_buffer buf;
    boost::system::error_code err;
    ws_.async_read(buf, [&](boost::system::error_code ec, std::size_t) { err = ec; });
    run();
    return err ? std::string() : beast::buffers_to_string(buf.data());
  }

 private:
  void run() {
    io_.restart();
    io_.run_for(10s);
    if (!io_.stopped()) {
      beast::get_lowest_layer(ws_).cancel();
      io_.restart();
      io_.run_for(1s);
    }
  }

  asio::io_context io_;
  websocket::stream<beast::tcp_stream> ws_;
  websocket::response_type response_;
};

std::string config_for(std::uint16_t backend) {
  return fmt::format(R"({{
  "region": "us-east-1",
  "apis": [{{
    "apiId": "hardapi001", "name": "hard", "routeSelectionExpression": "$request.body.action",
    "stages": [{{"stageName": "dev"}}],
    "integrations": [
      {{"integrationId": "connect1", "integrationUri": "{b}/ws/connect",
        "requestParameters": {{"integration.request.header.connectionId": "context.connectionId",
                               "integration.request.header.X-Name": "route.request.querystring.name",
                               "integration.request.header.X-Token": "route.request.querystring.ws_token"}}}},
      {{"integrationId": "discon1", "integrationUri": "{b}/ws/disconnect",
        "requestParameters": {{"integration.request.header.connectionId": "context.connectionId"}}}},
      {{"integrationId": "probe1", "integrationUri": "{b}/ws/probe",
        "requestParameters": {{"integration.request.header.connectionId": "context.connectionId",
                               "integration.request.header.X-Value": "route.request.body.value"}}}}
    ],
    "routes": [
      {{"routeKey": "$connect", "target": "integrations/connect1"}},
      {{"routeKey": "$disconnect", "target": "integrations/discon1"}},
      {{"routeKey": "probe", "target": "integrations/probe1"}}
    ]
  }}]
}})",
                     fmt::arg("b", fmt::format("http://127.0.0.1:{}", backend)));
}

class HardeningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = parse_gateway_config(config_for(backend.port()));
    ASSERT_TRUE(cfg) << cfg.error().message;
    gateway_options o;
    o.port = 0;
    o.log = [](std::string_view) {};
    gw = std::make_unique<gateway>(io.executor(), std::move(*cfg), std::move(o));
    ASSERT_TRUE(gw->start());
  }

  void TearDown() override {
    if (gw) io.run(gw->shutdown(2s));
  }

  // connected: a client that passed $connect, and the connection id the backend was given.
  std::pair<std::unique_ptr<client>, std::string> connected() {
    auto c = std::make_unique<client>(gw->port(), "/dev");
    EXPECT_TRUE(c->ok) << c->status;
    const auto reqs = backend.wait("POST /ws/connect", 1);
    const auto ids = reqs.empty() ? std::vector<std::string>{} : reqs.back().values("connectionId");
    return {std::move(c), ids.empty() ? std::string() : ids.front()};
  }

  // probes_after_marker: sends a good probe ("ok") as a marker and returns the probe route's
  // requests once `expected` of them (the marker included) have arrived.
  std::vector<raw_request> probes_after_marker(client& c, std::size_t expected = 1) {
    c.send(R"({"action":"probe","value":"ok"})");
    std::vector<raw_request> out;
    for (auto& r : backend.wait("POST /ws/probe", expected)) {
      if (r.request_line.starts_with("POST /ws/probe")) out.push_back(std::move(r));
    }
    return out;
  }

  testing::io_runner io{2};
  raw_backend backend;
  std::unique_ptr<gateway> gw;
};

const std::string k_id = "[A-Za-z0-9_-]{15}=";

std::string internal_error_regex(const std::string& id) {
  return R"(\{"message": "Internal server error", "connectionId":")" + id + R"(", "requestId":")" + k_id + R"("\})";
}

// A percent-decoded query value with CR LF used to add a header to the $connect request.
TEST_F(HardeningTest, QueryValueWithCrLfRefusesTheHandshakeAndReachesNoBackend) {
  client bad(gw->port(), "/dev?name=a%0D%0AX-Injected:1");
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.status, 502u);  // as any failed $connect integration

  auto [good, id] = connected();  // the marker: everything before it has been handled
  const auto reqs = backend.wait("POST /ws/connect", 1);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].values("connectionId"), std::vector<std::string>{id});
  EXPECT_TRUE(reqs[0].values("X-Injected").empty());
  EXPECT_EQ(reqs[0].bytes.find("X-Injected"), std::string::npos);
}

// A body value with CR LF used to put a forged connectionId ahead of the gateway's.
TEST_F(HardeningTest, BodyValueForgingConnectionIdGetsInternalServerErrorAndReachesNoBackend) {
  auto [c, id] = connected();
  ASSERT_FALSE(id.empty());
  c->send(R"({"action":"probe","value":"x\r\nconnectionId: OTHER"})");
  EXPECT_THAT(c->read(), MatchesRegex(internal_error_regex(id)));

  const auto probes = probes_after_marker(*c);
  ASSERT_EQ(probes.size(), 1u);
  EXPECT_EQ(probes[0].values("X-Value"), std::vector<std::string>{"ok"});
  EXPECT_EQ(probes[0].values("connectionId"), std::vector<std::string>{id});
  for (const auto& r : backend.wait("", 0)) EXPECT_EQ(r.bytes.find("OTHER"), std::string::npos) << r.bytes;
}

// A body value with an empty line and a second request used to smuggle that request over the
// trusted hop (here a $disconnect of the sender's own connection).
TEST_F(HardeningTest, SmuggledSecondRequestGetsInternalServerErrorAndReachesNoBackend) {
  auto [c, id] = connected();
  ASSERT_FALSE(id.empty());
  c->send(fmt::format(R"({{"action":"probe","value":"x\r\n\r\nPOST /ws/disconnect HTTP/1.1\r\nHost: b\r\n)"
                      R"(connectionId: {}\r\nContent-Length: 0\r\n\r\n"}})",
                      id));
  EXPECT_THAT(c->read(), MatchesRegex(internal_error_regex(id)));

  const auto probes = probes_after_marker(*c);
  ASSERT_EQ(probes.size(), 1u);
  EXPECT_EQ(probes[0].values("X-Value"), std::vector<std::string>{"ok"});
  for (const auto& r : backend.wait("", 0)) {
    EXPECT_FALSE(r.request_line.starts_with("POST /ws/disconnect")) << r.bytes;
    EXPECT_EQ(r.bytes.find("/ws/disconnect"), std::string::npos) << r.bytes;
  }
}

// A NUL or another control character is refused like CR and LF; a tab is an ordinary character.
TEST_F(HardeningTest, OtherControlCharactersAreRefusedAndTabPasses) {
  auto [c, id] = connected();
  c->send(R"({"action":"probe","value":"a\u0000b"})");
  EXPECT_THAT(c->read(), MatchesRegex(internal_error_regex(id)));
  c->send(R"({"action":"probe","value":"a\u007fb"})");
  EXPECT_THAT(c->read(), MatchesRegex(internal_error_regex(id)));
  c->send(R"({"action":"probe","value":"a\tb"})");
  std::multiset<std::string> values;
  for (const auto& r : probes_after_marker(*c, 2)) {
    for (auto& v : r.values("X-Value")) values.insert(std::move(v));
  }
  EXPECT_EQ(values, (std::multiset<std::string>{"a\tb", "ok"}));
}

// A client's own X-Amzn-*, X-Forwarded-*, connectionId and mapped headers used to be forwarded on
// $connect ahead of the gateway's values, so a backend reading the first one read the client's.
TEST_F(HardeningTest, ClientCannotSupplyGatewayOwnedOrMappedHeaders) {
  client c(gw->port(), "/dev",
           {{"X-Amzn-Apigateway-Api-Id", "forged"},
            {"x-amzn-trace-id", "Root=forged"},
            {"X-Forwarded-Proto", "forged"},
            {"connectionid", "forged"},
            {"X-Token", "forged"},
            {"X-Custom", "kept"}});
  ASSERT_TRUE(c.ok) << c.status;
  const auto reqs = backend.wait("POST /ws/connect", 1);
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.values("X-Amzn-Apigateway-Api-Id"), std::vector<std::string>{"hardapi001"});
  ASSERT_EQ(r.values("X-Amzn-Trace-Id").size(), 1u);
  EXPECT_THAT(r.values("X-Amzn-Trace-Id")[0], MatchesRegex("Root=1-[0-9a-f]{8}-[0-9a-f]{24}"));
  EXPECT_EQ(r.values("X-Forwarded-Proto"), std::vector<std::string>{"https"});
  ASSERT_EQ(r.values("connectionId").size(), 1u);
  EXPECT_THAT(r.values("connectionId")[0], MatchesRegex(k_id));
  EXPECT_TRUE(r.values("X-Token").empty());  // mapped from ws_token, which this client did not send
  EXPECT_EQ(r.values("X-Custom"), std::vector<std::string>{"kept"});
  EXPECT_EQ(r.bytes.find("forged"), std::string::npos) << r.bytes;
}

}  // namespace
}  // namespace apigw::gateway
