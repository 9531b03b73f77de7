// Fault tests of the local gateway under pressure (ctest labels integration;faults): a client that
// keeps sending but reads slowly must be closed as a slow consumer with the gateway's memory
// bounded, and slow message integrations must neither keep their connection slots past their
// timeout nor starve a new client's $connect. Outcomes only: bounded memory, the right close,
// the handshake accepted.
#include "apigw/gateway/gateway.hpp"

#include "apigw/net/http_server.hpp"
#include "support/io_runner.hpp"
#include "support/ws_frames.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace apigw::gateway {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

// peak_rss_kib: this process's peak resident set (VmHWM), in KiB.
std::size_t peak_rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoul(line.substr(6));
  }
  return 0;
}

// backend: "/ws/echo" answers with the body, "/ws/slow" never answers in time (it waits far past
// every integration timeout), the rest get an empty 200.
class backend {
 public:
  // backend: on a free port, or on `port` (a backend restarted where it was).
  explicit backend(asio::any_io_executor ex, std::uint16_t port = 0)
      : server_(
            ex,
            [slow_seen = slow_seen_](net::incoming_request r) -> asio::awaitable<std::optional<net::http_response>> {
              net::http_response resp;
              if (r.target.starts_with("/ws/echo")) resp.body = std::move(r.body);
              if (r.target.starts_with("/ws/slow")) {
                slow_seen->fetch_add(1);
                asio::steady_timer t(co_await asio::this_coro::executor, 60s);
                co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
              }
              co_return resp;
            },
            net::http_server_options{.port = port}) {
    EXPECT_TRUE(server_.start());
  }
  std::uint16_t port() const { return server_.port(); }
  void stop() { server_.stop(); }
  // slow_requests: how many /ws/slow requests have arrived so far.
  int slow_requests() const { return slow_seen_->load(); }

 private:
  std::shared_ptr<std::atomic<int>> slow_seen_ = std::make_shared<std::atomic<int>>(0);
  net::http_server server_;
};

std::string config(std::uint16_t port, int slow_timeout_ms = 300) {
  const std::string b = fmt::format("http://127.0.0.1:{}", port);
  return fmt::format(R"({{
  "region": "us-east-1",
  "apis": [{{
    "apiId": "pressure01", "name": "pressure", "routeSelectionExpression": "$request.body.action",
    "stages": [{{"stageName": "dev"}}],
    "integrations": [
      {{"integrationId": "connect1", "integrationUri": "{b}/ws/connect", "timeoutInMillis": 5000}},
      {{"integrationId": "echo1", "integrationUri": "{b}/ws/echo"}},
      {{"integrationId": "slow1", "integrationUri": "{b}/ws/slow", "timeoutInMillis": {slow_ms}}}
    ],
    "routes": [
      {{"routeKey": "$connect", "target": "integrations/connect1"}},
      {{"routeKey": "echo", "target": "integrations/echo1", "routeResponseSelectionExpression": "$default",
        "routeResponses": [{{"routeResponseKey": "$default"}}]}},
      {{"routeKey": "slow", "target": "integrations/slow1"}}
    ]
  }}]
}})",
                     fmt::arg("b", b), fmt::arg("slow_ms", slow_timeout_ms));
}

using apigw::testing::masked_frame;

// raw_ws: a WebSocket client on a bare socket, so the test decides exactly how much it reads.
class raw_ws {
 public:
  // raw_ws: connects and sends the handshake; `status` is the answer's HTTP status.
  raw_ws(std::uint16_t port, std::string_view target) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    const std::string hs = fmt::format(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        target);
    asio::write(socket_, asio::buffer(hs));
    boost::system::error_code ec;
    asio::read_until(socket_, asio::dynamic_buffer(in_), "\r\n\r\n", ec);
    if (!ec && in_.size() > 12) status = static_cast<unsigned>(std::stoul(in_.substr(9, 3)));
    in_.erase(0, in_.find("\r\n\r\n") + 4);
  }
  unsigned status = 0;

  // send: one text message; false once the gateway has closed the connection.
  bool send(std::string_view text) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(masked_frame(text)), ec);
    return !ec;
  }

  // read_some: reads at most `n` bytes; false at the end of the stream.
  bool read_some(std::size_t n) {
    std::string chunk(n, '\0');
    boost::system::error_code ec;
    const auto got = socket_.read_some(asio::buffer(chunk), ec);
    in_.append(chunk.data(), got);
    return !ec;
  }

  // next_text: the payload of the next frame the gateway sends (waiting for it); nullopt at the end
  // of the stream. Frames under 64 KiB only.
  std::optional<std::string> next_text() {
    for (;;) {
      if (in_.size() >= 2) {
        std::size_t len = static_cast<unsigned char>(in_[1]) & 0x7f;
        std::size_t head = 2;
        if (len == 126 && in_.size() >= 4) {
          len = (static_cast<unsigned char>(in_[2]) << 8) | static_cast<unsigned char>(in_[3]);
          head = 4;
        }
        if (len < 126 || head == 4) {
          if (in_.size() >= head + len) {
            std::string payload = in_.substr(head, len);
            in_.erase(0, head + len);
            return payload;
          }
        }
      }
      if (!read_some(64 * 1024)) return std::nullopt;
    }
  }

  // abort: ends the connection from this side (wakes a send blocked on a full socket).
  void abort() {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
  }

  // close_code: reads until the close frame (then answers it, ending the close handshake) or the
  // end of the stream; returns the close frame's code, if one came.
  std::optional<unsigned> close_code() {
    while (read_some(64 * 1024)) {
      if (auto code = find_close()) {
        boost::system::error_code ignored;
        asio::write(socket_, asio::buffer(masked_frame(std::string("\x03\xe8", 2), 0x8)), ignored);
        return code;
      }
    }
    return find_close();
  }

 private:
  // find_close: the code of the first close frame in what was read, if it is there already.
  std::optional<unsigned> find_close() {
    std::size_t at = 0;
    while (at + 2 <= in_.size()) {
      const auto opcode = static_cast<unsigned char>(in_[at]) & 0x0f;
      std::size_t len = static_cast<unsigned char>(in_[at + 1]) & 0x7f;
      std::size_t head = 2;
      if (len == 126) {
        if (at + 4 > in_.size()) break;
        len = (static_cast<unsigned char>(in_[at + 2]) << 8) | static_cast<unsigned char>(in_[at + 3]);
        head = 4;
      } else if (len == 127) {
        if (at + 10 > in_.size()) break;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(in_[at + 2 + i]);
        head = 10;
      }
      if (at + head + len > in_.size()) break;
      if (opcode == 0x8 && len >= 2) {
        return (static_cast<unsigned char>(in_[at + head]) << 8) | static_cast<unsigned char>(in_[at + head + 1]);
      }
      at += head + len;
    }
    return std::nullopt;
  }

  asio::io_context io_;
  tcp::socket socket_;
  std::string in_;
};

class PressureTest : public ::testing::Test {
 protected:
  void start(std::size_t integration_connections = 128, int slow_timeout_ms = 300) {
    auto cfg = parse_gateway_config(config(be.port(), slow_timeout_ms));
    ASSERT_TRUE(cfg) << cfg.error().message;
    gateway_options o;
    o.port = 0;
    o.limits.integration_connections_per_origin = integration_connections;
    // After its close frame the gateway waits this long for the client's before it cuts the socket
    // (the client's answer may sit behind the messages it had already sent).
    o.limits.close_timeout = 2s;
    o.log = [this](std::string_view line) {
      if (line.find("slow consumer closed") != std::string_view::npos) closing.store(true);
    };
    gw = std::make_unique<gateway>(io.executor(), std::move(*cfg), std::move(o));
    ASSERT_TRUE(gw->start());
  }
  void TearDown() override {
    if (gw) io.run(gw->shutdown(2s));
    be.stop();
  }

  // counted: the connection ended and /metrics counted it as a slow consumer.
  bool counted() const {
    return gw->metrics_text().find(R"(apigw_gateway_closes_total{cause="slow_consumer"} 1)") != std::string::npos;
  }

  // slow_reader: sends `message` as fast as the gateway takes it from one thread while reading
  // 4 KiB every 2 s on this one, until the gateway starts closing the connection as a slow
  // consumer (its log says so) or this process's peak RSS passes `bound_kib` (or 60 s pass); then
  // reads the rest at once. Returns the close code seen.
  std::optional<unsigned> slow_reader(const std::string& target, const std::string& message, std::size_t bound_kib) {
    raw_ws c(gw->port(), target);
    EXPECT_EQ(c.status, 101U);
    std::atomic<bool> stop{false};
    std::thread sender([&] {
      while (!stop.load() && c.send(message)) {
      }
    });
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (!closing.load() && peak_rss_kib() < bound_kib && std::chrono::steady_clock::now() < give_up) {
      c.read_some(4096);
      for (int i = 0; i < 20 && !closing.load() && peak_rss_kib() < bound_kib; ++i) {
        std::this_thread::sleep_for(100ms);
      }
    }
    stop.store(true);
    std::optional<unsigned> code;
    if (closing.load()) {
      code = c.close_code();  // the gateway closes the socket after its close frame
      for (int i = 0; i < 1000 && !counted(); ++i) std::this_thread::sleep_for(10ms);
      EXPECT_TRUE(counted()) << gw->metrics_text();
    }
    c.abort();
    sender.join();
    return code;
  }

  testing::io_runner io{2};
  backend be{io.executor()};
  std::unique_ptr<gateway> gw;
  std::atomic<bool> closing{false};
};

// Bound on this process's peak RSS: the gateway's budget is 1 MiB per connection; everything
// else here (the test, its client's buffers, the in-flight integrations) is a few tens of MiB.
// Without the budget the replies grow the queue by hundreds of MiB within seconds. The bound is
// growth over the peak before the test, so a sanitizer's own shadow memory does not count.
#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer keeps freed memory in its quarantine (256 MiB by default), so every frame the
// gateway wrote and freed still counts; the close must come all the same.
constexpr std::size_t k_rss_growth_kib = 1024 * 1024;
#else
constexpr std::size_t k_rss_growth_kib = 160 * 1024;
#endif

TEST_F(PressureTest, SlowReaderOfTwoWayRepliesIsClosedAsASlowConsumerWithMemoryBounded) {
  start();
  const std::string message = R"({"action":"echo","pad":")" + std::string(30 * 1024, 'x') + R"("})";
  const auto bound = peak_rss_kib() + k_rss_growth_kib;
  const auto code = slow_reader("/dev", message, bound);
  const auto peak = peak_rss_kib();
  RecordProperty("peak_rss_kib", std::to_string(peak));
  std::printf("peak RSS %zu KiB\n", peak);
  EXPECT_LT(peak, bound);
  ASSERT_TRUE(code.has_value()) << "no close frame";
  EXPECT_EQ(*code, 1008U);
}

TEST_F(PressureTest, SlowReaderOfErrorFramesIsClosedAsASlowConsumerWithMemoryBounded) {
  start();
  const auto bound = peak_rss_kib() + k_rss_growth_kib;
  const auto code = slow_reader("/dev", "hi", bound);  // no route: a Forbidden frame each
  const auto peak = peak_rss_kib();
  std::printf("peak RSS %zu KiB\n", peak);
  EXPECT_LT(peak, bound);
  ASSERT_TRUE(code.has_value()) << "no close frame";
  EXPECT_EQ(*code, 1008U);
}

TEST_F(PressureTest, SlowIntegrationsDoNotStarveANewClientsConnect) {
  // 5 clients x 26 messages to an integration that never answers within its 300 ms timeout: 130
  // calls, more than the 128 connections the message pool may open to the backend. A new
  // client's $connect (timeout 5 s) must still be accepted: the timed-out calls free their slots,
  // and $connect has a pool of its own.
  start();
  std::vector<std::unique_ptr<raw_ws>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<raw_ws>(gw->port(), "/dev"));
    ASSERT_EQ(clients.back()->status, 101U);
  }
  for (auto& c : clients) {
    for (int m = 0; m < 26; ++m) ASSERT_TRUE(c->send(R"({"action":"slow"})"));
  }
  std::this_thread::sleep_for(100ms);  // the calls are out
  raw_ws late(gw->port(), "/dev");
  EXPECT_EQ(late.status, 101U) << "the new client's $connect was refused";
}

TEST_F(PressureTest, IntegrationConnectionsPerOriginAreCapped) {
  // A cap of 2 and 10 messages to an integration that times out after 2 s: the backend sees exactly
  // 2 requests at first (the other 8 wait for a connection, and time out waiting, as the integration
  // timeout covers the whole call). Once those calls timed out, their connections are free: a new
  // message reaches the backend.
  start(2, 2000);
  raw_ws c(gw->port(), "/dev");
  ASSERT_EQ(c.status, 101U);
  for (int m = 0; m < 10; ++m) ASSERT_TRUE(c.send(R"({"action":"slow"})"));
  const auto until = [&](int n, std::chrono::seconds limit) {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (be.slow_requests() < n && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(20ms);
    return be.slow_requests();
  };
  ASSERT_GE(until(2, 10s), 2);
  std::this_thread::sleep_for(300ms);  // well inside the 2 s timeout: no connection is free yet
  EXPECT_EQ(be.slow_requests(), 2) << "more integration connections than the cap";
  std::this_thread::sleep_for(4500ms);  // every call of the burst has timed out by now
  const int seen = be.slow_requests();
  ASSERT_TRUE(c.send(R"({"action":"slow"})"));
  EXPECT_GT(until(seen + 1, 10s), seen) << "timed-out calls did not free their connections";
}

TEST_F(PressureTest, BackendKilledAndRestartedLosesNoMessageSilently) {
  // The gateway keeps a kept-alive connection to the backend. The backend is killed (every socket
  // closed) and started again on the same port: the message sent while it is away gets the error
  // frame (the client knows), and the next one goes through on a fresh connection.
  start();
  raw_ws c(gw->port(), "/dev");
  ASSERT_EQ(c.status, 101U);
  ASSERT_TRUE(c.send(R"({"action":"echo","n":1})"));
  EXPECT_EQ(c.next_text(), R"({"action":"echo","n":1})");
  const auto port = be.port();
  be.stop();
  ASSERT_TRUE(c.send(R"({"action":"echo","n":2})"));
  auto lost = c.next_text();
  ASSERT_TRUE(lost);
  EXPECT_NE(lost->find(R"("message": "Internal server error")"), std::string::npos) << *lost;
  backend again(io.executor(), port);
  ASSERT_TRUE(c.send(R"({"action":"echo","n":3})"));
  EXPECT_EQ(c.next_text(), R"({"action":"echo","n":3})");
  again.stop();
}

}  // namespace
}  // namespace apigw::gateway
