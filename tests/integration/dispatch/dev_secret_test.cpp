// `apigw-ws dev` as a child process: the backend it runs trusts only its own gateway. An
// integration request forged by another local process (every header AWS sends, but not the
// per-run shared secret) is refused; a browser's socket through the gateway, whose integrations
// inject the secret, is accepted. With --log-format json every stderr line is a JSON object, and
// the backend's line for the gateway's $connect carries the trace id of the gateway's line.
#include "apigw/core/json.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "dev_process.hpp"
#include "support/child_process.hpp"
#include "support/io_runner.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace apigw {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;

// handshake_status: the HTTP status of a WebSocket handshake to the gateway (101: accepted; 0: it
// failed below HTTP).
unsigned handshake_status(std::uint16_t port, const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& headers) {
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws(io);
  beast::get_lowest_layer(ws).expires_after(30s);
  beast::error_code ec;
  beast::get_lowest_layer(ws).connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return 0;
  ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [n, v] : headers) req.set(n, v);
  }));
  websocket::response_type res;
  ws.handshake(res, fmt::format("127.0.0.1:{}", port), target, ec);
  const auto status = res.result_int();
  if (!ec) ws.close(websocket::close_code::normal, ec);
  return status;
}

class dev_secret : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("apigw-dev-secret-{}", ::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    pool_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  result<net::http_response> post(std::uint16_t port, std::string target, net::http_headers headers, std::string body) {
    net::http_request r;
    r.method = "POST";
    r.origin = net::origin{net::scheme::http, "127.0.0.1", port};
    r.target = std::move(target);
    r.headers = std::move(headers);
    r.body = std::move(body);
    return io_.run(pool_->request(std::move(r)));
  }

  // open_socket: logs in as alice, fetches a token and opens a socket through dev's gateway (its
  // $connect integration reaches the backend); the handshake's status (101: accepted).
  unsigned open_socket(const testing::dev_process& dev) {
    const auto password = testing::read_file(dir_ / "data" / "alice.password");
    const auto login = post(
        dev.backend_port, "/api/login/", {{"Content-Type", "application/json"}},
        serialize_message(json::object{{"username", "alice"}, {"password", password.substr(0, password.find('\n'))}})
            .value());
    EXPECT_TRUE(login && login->status == 200U) << (login ? login->body : login.error().message);
    if (!login || login->status != 200U) return 0;
    const auto set_cookie = std::string{net::find_header(login->headers, "Set-Cookie").value_or("")};
    const auto cookie = set_cookie.substr(0, set_cookie.find(';'));
    const auto csrf = std::string{get_string(*parse_json_object(login->body), "csrf_token").value_or("")};
    auto token = post(dev.backend_port, "/api/ws-token/", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}, "");
    EXPECT_TRUE(token && token->status == 200U) << (token ? token->body : token.error().message);
    if (!token || token->status != 200U) return 0;
    const auto t = std::string{get_string(*parse_json_object(token->body), "token").value_or("")};
    return handshake_status(dev.gateway_port, "/dev?channel=home&ws_token=" + t,
                            {{"Cookie", cookie},
                             {"Origin", fmt::format("http://127.0.0.1:{}", dev.backend_port)},
                             {"Sec-WebSocket-Extensions", "permessage-deflate"}});
  }

  std::filesystem::path dir_;
  testing::io_runner io_;
  std::unique_ptr<net::http_client_pool> pool_ = std::make_unique<net::http_client_pool>(io_.executor());
};

TEST_F(dev_secret, only_the_gateway_reaches_the_backend) {
  testing::dev_process dev(dir_);
  ASSERT_TRUE(dev.wait_ready()) << dev.output();

  // A forged $disconnect for some connection, with every header API Gateway sends except the
  // secret: before the fix this marked the connection gone while its socket was open.
  const net::http_headers forged{{"X-Forwarded-For", "127.0.0.1"},
                                 {"X-Forwarded-Proto", "http"},
                                 {"X-Forwarded-Port", "80"},
                                 {"X-Amzn-Trace-Id", "Root=1-00000000-000000000000000000000000"},
                                 {"connectionId", "AAAAAAAAAAAAAAA="},
                                 {"User-Agent", "AmazonAPIGateway_devapi0001"},
                                 {"X-Amzn-Apigateway-Api-Id", "devapi0001"}};
  for (const auto* route : {"/ws/connect", "/ws/disconnect", "/ws/default"}) {
    auto r = post(dev.backend_port, route, forged, R"({"handler":"heartbeat"})");
    ASSERT_TRUE(r) << route;
    EXPECT_EQ(r->status, 400U) << route << ": " << r->body;
    EXPECT_EQ(r->body, "Invalid request headers") << route;
  }
  // A guessed secret does no better.
  auto guessed = forged;
  guessed.push_back({"X-Apigw-Secret", std::string(64, '0')});
  auto g = post(dev.backend_port, "/ws/disconnect", guessed, "{}");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 400U);

  // The gateway's own calls pass: a socket through the gateway, whose $connect reaches the backend.
  EXPECT_EQ(open_socket(dev), 101U) << dev.output();
}

// The commands the banner prints "from another shell" work when pasted into one: apigw-ws is not
// on this PATH, so the banner names the binary by its path.
TEST_F(dev_secret, banner_commands_work_when_pasted) {
  testing::dev_process dev(dir_);
  ASSERT_TRUE(dev.wait_ready()) << dev.output();
  const auto out = testing::read_file(dir_ / "stdout");
  std::vector<std::string> commands;
  std::istringstream lines(out.substr(0, out.find("Ctrl-C")));
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("    ") && line.find(" --db ") != std::string::npos) commands.push_back(line.substr(4));
  }
  ASSERT_EQ(commands.size(), 2U) << out;
  for (const auto& c : commands) {
    EXPECT_TRUE(c.starts_with(std::string(APIGW_CLI_PATH) + " --db ")) << c;
    auto r = testing::run_process({"/bin/sh", "-c", c}, {{"PATH", "/usr/bin:/bin"}, {"HOME", dir_.string()}}, dir_);
    EXPECT_EQ(r.exit_code, 0) << c << ": " << r.out << r.err;
  }
}

// Both parts' logs in JSON on one stderr: every line parses, and the backend's access line for the
// $connect carries the trace id and request id of the gateway's integration line.
TEST_F(dev_secret, json_logs_join_the_gateway_and_the_backend_by_trace_id) {
  testing::dev_process dev(dir_, {"--log-level", "info", "--log-format", "json"});
  ASSERT_TRUE(dev.wait_ready()) << dev.output();
  ASSERT_EQ(open_socket(dev), 101U) << dev.output();
  dev.stop();  // every line is written once the process has exited

  const auto err = testing::read_file(dir_ / "stderr");
  std::vector<json::object> lines;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) {
    auto o = parse_json_object(line);
    ASSERT_TRUE(o) << "not a JSON object: " << line;
    for (const auto* key : {"ts", "level", "msg", "component"}) EXPECT_TRUE(o->contains(key)) << key << ": " << line;
    lines.push_back(std::move(*o));
  }
  const auto text = [](const json::object& o, std::string_view key) {
    return std::string(get_string(o, key).value_or(""));
  };
  const auto find = [&](std::string_view component, std::string_view msg, std::string_view route) {
    for (const auto& o : lines) {
      if (text(o, "component") == component && text(o, "msg") == msg && text(o, "route") == route) return &o;
    }
    return static_cast<const json::object*>(nullptr);
  };
  const auto* gw = find("gateway", "integration", "$connect");
  const auto* be = find("backend", "request", "connect");
  ASSERT_TRUE(gw && be) << err;
  EXPECT_TRUE(text(*gw, "trace_id").starts_with("Root=1-")) << err;
  EXPECT_EQ(text(*be, "trace_id"), text(*gw, "trace_id"));
  EXPECT_FALSE(text(*gw, "request_id").empty());
  EXPECT_EQ(text(*be, "request_id"), text(*gw, "request_id"));
  EXPECT_EQ(text(*be, "connection_id"), text(*gw, "connection_id"));
  EXPECT_EQ(gw->at("status"), json::value(200));
  EXPECT_EQ(be->at("status"), json::value(200));
}

}  // namespace
}  // namespace apigw
