// `apigw-ws dev --tls` as a child process: it makes a local CA and a certificate once in its data
// folder, serves the pages over https:// and the gateway over wss:// (its integrations reach the
// https backend, verified against that CA), prints how to trust the CA, reuses both on the next
// run, and re-reads the certificate on SIGHUP (a real signal to the real process).
#include "apigw/core/json.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/net/tls.hpp"
#include "dev_process.hpp"
#include "support/child_process.hpp"
#include "support/io_runner.hpp"
#include "support/tls_files.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <thread>
#include <vector>

namespace apigw {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using namespace std::chrono_literals;

class dev_tls : public ::testing::Test {
 protected:
  std::filesystem::path tls_dir() const { return dir_.path() / "data" / "tls"; }
  std::string ca_pem() const { return testing::read_file(tls_dir() / "ca.pem"); }

  std::unique_ptr<net::http_client_pool> pool() {
    net::client_pool_options o;
    o.extra_ca_pem = ca_pem();
    return std::make_unique<net::http_client_pool>(io_.executor(), o);
  }

  result<net::http_response> call(net::http_client_pool& p, std::uint16_t port, std::string method, std::string target,
                                  net::http_headers headers = {}, std::string body = {}) {
    net::http_request r;
    r.method = std::move(method);
    r.origin = net::origin{net::scheme::https, "127.0.0.1", port};
    r.target = std::move(target);
    r.headers = std::move(headers);
    r.body = std::move(body);
    return io_.run(p.request(std::move(r)));
  }

  // wss_handshake_status: logs in as alice over https and opens a wss:// socket through the
  // gateway (its $connect reaches the https backend); the handshake's HTTP status.
  unsigned wss_handshake_status(const testing::dev_process& dev) {
    auto p = pool();
    const auto password = testing::read_file(dir_.path() / "data" / "alice.password");
    const auto login = call(
        *p, dev.backend_port, "POST", "/api/login/", {{"Content-Type", "application/json"}},
        serialize_message(json::object{{"username", "alice"}, {"password", password.substr(0, password.find('\n'))}})
            .value());
    EXPECT_TRUE(login && login->status == 200U) << (login ? login->body : login.error().message);
    if (!login || login->status != 200U) return 0;
    const auto set_cookie = std::string{net::find_header(login->headers, "Set-Cookie").value_or("")};
    EXPECT_NE(set_cookie.find("Secure"), std::string::npos) << "over https the session cookie is Secure";
    const auto cookie = set_cookie.substr(0, set_cookie.find(';'));
    const auto csrf = std::string{get_string(*parse_json_object(login->body), "csrf_token").value_or("")};
    auto token = call(*p, dev.backend_port, "POST", "/api/ws-token/", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
    EXPECT_TRUE(token && token->status == 200U) << (token ? token->body : token.error().message);
    if (!token || token->status != 200U) return 0;
    const auto t = std::string{get_string(*parse_json_object(token->body), "token").value_or("")};

    asio::io_context io;
    ssl::context ctx(ssl::context::tls_client);
    ctx.add_certificate_authority(asio::buffer(ca_pem()));
    ctx.set_verify_mode(ssl::verify_peer);
    websocket::stream<ssl::stream<asio::ip::tcp::socket>> ws(io, ctx);
    ws.next_layer().set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    beast::error_code ec;
    beast::get_lowest_layer(ws).connect({asio::ip::make_address("127.0.0.1"), dev.gateway_port}, ec);
    if (ec) return 0;
    ws.next_layer().handshake(ssl::stream_base::client, ec);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) return 0;
    ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
      req.set("Cookie", cookie);
      req.set("Origin", fmt::format("https://127.0.0.1:{}", dev.backend_port));
      req.set("Sec-WebSocket-Extensions", "permessage-deflate");  // browsers send it; the backend requires it
    }));
    websocket::response_type res;
    ws.handshake(res, fmt::format("127.0.0.1:{}", dev.gateway_port), "/dev?channel=home&ws_token=" + t, ec);
    if (!ec) ws.close(websocket::close_code::normal, ec);
    return res.result_int();
  }

  std::string fingerprint(std::uint16_t port) {
    testing::tls_probe probe(port, ca_pem());
    if (auto ec = probe.handshake()) return "handshake failed: " + ec.message();
    return probe.peer_sha256();
  }

  testing::temp_dir dir_;
  testing::io_runner io_;
};

TEST_F(dev_tls, serves_https_and_wss_with_a_local_ca_made_once_and_reloads_on_sighup) {
  std::string first_ca;
  {
    testing::dev_process dev(dir_.path(), {"--tls"});
    ASSERT_TRUE(dev.wait_ready()) << dev.output();
    first_ca = ca_pem();
    ASSERT_FALSE(first_ca.empty());
    const auto out = dev.stdout_text();
    EXPECT_NE(out.find("made now"), std::string::npos) << out;
    EXPECT_NE(out.find("certutil -d sql:$HOME/.pki/nssdb"), std::string::npos) << out;
    EXPECT_NE(out.find("update-ca-certificates"), std::string::npos) << out;
    const auto spki = net::spki_sha256_base64(testing::read_file(tls_dir() / "cert.pem"));
    ASSERT_TRUE(spki);
    EXPECT_NE(out.find("--ignore-certificate-errors-spki-list=" + *spki), std::string::npos) << out;
    EXPECT_EQ(std::filesystem::status(tls_dir() / "ca-key.pem").permissions() & std::filesystem::perms::group_read,
              std::filesystem::perms::none);

    auto p = pool();
    auto health = call(*p, dev.backend_port, "GET", "/healthz");
    ASSERT_TRUE(health) << health.error().message;
    EXPECT_EQ(health->status, 200U);
    auto config = call(*p, dev.backend_port, "GET", "/api/ws-config/");
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_NE(config->body.find("wss://127.0.0.1:"), std::string::npos) << config->body;
    EXPECT_EQ(wss_handshake_status(dev), 101U) << dev.output();

    // SIGHUP: a new certificate from the same CA is served by both servers to new connections.
    const auto ca_key = testing::read_file(tls_dir() / "ca-key.pem");
    auto next = net::issue_server_certificate({first_ca, ca_key}, {"localhost", "127.0.0.1"});
    ASSERT_TRUE(next) << next.error().message;
    const auto before = fingerprint(dev.backend_port);
    EXPECT_EQ(fingerprint(dev.gateway_port), before);
    testing::write_file(tls_dir() / "cert.pem", next->certificate);
    testing::write_file(tls_dir() / "key.pem", next->key);
    dev.signal(SIGHUP);
    const auto wanted = *net::certificate_sha256(next->certificate);
    std::string backend_seen;
    std::string gateway_seen;
    for (const auto until = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < until;) {
      backend_seen = fingerprint(dev.backend_port);
      gateway_seen = fingerprint(dev.gateway_port);
      if (backend_seen == wanted && gateway_seen == wanted) break;
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(backend_seen, wanted) << dev.output();
    EXPECT_EQ(gateway_seen, wanted) << dev.output();
    EXPECT_EQ(wss_handshake_status(dev), 101U) << "the reloaded certificate serves the whole path";
  }
  // The next run reuses the CA (the browser's trust in it lasts) and says nothing was made.
  testing::dev_process again(dir_.path(), {"--tls"});
  ASSERT_TRUE(again.wait_ready()) << again.output();
  EXPECT_EQ(ca_pem(), first_ca);
  EXPECT_EQ(again.stdout_text().find("made now"), std::string::npos);
  auto p = pool();
  auto health = call(*p, again.backend_port, "GET", "/healthz");
  ASSERT_TRUE(health) << health.error().message;
  EXPECT_EQ(health->status, 200U);
}

}  // namespace
}  // namespace apigw
