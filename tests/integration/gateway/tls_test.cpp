// Integration tests of the local gateway with TLS on both sides, as on AWS: clients connect with
// wss:// and the backend posts back through https://.../@connections, while the integrations call
// an https:// backend whose certificate the gateway verifies (against a CA it is given). Real
// sockets on loopback, real OpenSSL, a throwaway CA.
#include "apigw/gateway/gateway.hpp"

#include "apigw/gateway/error.hpp"
#include "apigw/net/error.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/net/http_server.hpp"
#include "support/io_runner.hpp"
#include "support/tls_files.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace apigw::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using namespace std::chrono_literals;
using apigw::testing::io_runner;
using apigw::testing::tls_material;

// https_backend: an https server on loopback that records the integration requests it gets.
class https_backend {
 public:
  https_backend(asio::any_io_executor ex, const tls_material& m) {
    net::http_server_options o;
    auto tls = net::server_tls::from_files(m.files);
    EXPECT_TRUE(tls) << tls.error().message;
    if (tls) o.tls = *tls;
    server_ = std::make_unique<net::http_server>(
        ex,
        [this](net::incoming_request r) -> asio::awaitable<std::optional<net::http_response>> {
          {
            std::lock_guard lock(mu_);
            requests_.push_back(r);
          }
          cv_.notify_all();
          co_return net::http_response{200, {}, ""};
        },
        o);
    EXPECT_TRUE(server_->start());
  }

  std::uint16_t port() const { return server_->port(); }

  // wait: the first request whose target starts with `prefix` (up to 10 s; nullopt if none came).
  std::optional<net::incoming_request> wait(std::string_view prefix) {
    std::unique_lock lock(mu_);
    std::optional<net::incoming_request> found;
    cv_.wait_for(lock, 10s, [&] {
      for (const auto& r : requests_) {
        if (r.target.starts_with(prefix)) {
          found = r;
          return true;
        }
      }
      return false;
    });
    return found;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<net::incoming_request> requests_;
  std::unique_ptr<net::http_server> server_;
};

// wss_client: a blocking wss:// client trusting `ca_pem`; a 20 s receive timeout on its socket
// keeps a broken gateway from hanging the test.
class wss_client {
 public:
  wss_client(std::uint16_t port, const std::string& ca_pem) : ctx_(ssl::context::tls_client), ws_(io_, ctx_) {
    ctx_.add_certificate_authority(asio::buffer(ca_pem));
    ctx_.set_verify_mode(ssl::verify_peer);
    ws_.next_layer().set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    auto& socket = beast::get_lowest_layer(ws_);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    timeval tv{20, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ws_.next_layer().handshake(ssl::stream_base::client, tls_error);
    if (tls_error) return;
    websocket::response_type res;
    ws_.handshake(res, fmt::format("127.0.0.1:{}", port), "/dev", ws_error);
    status = res.result_int();
  }

  void send(const std::string& text) { ws_.write(asio::buffer(text)); }

  std::string read() {
    beast::flat_buffer buf;
    boost::system::error_code ec;
    ws_.read(buf, ec);
    if (ec) return "error: " + ec.message();
    return beast::buffers_to_string(buf.data());
  }

  void close() {
    boost::system::error_code ignored;
    ws_.close(websocket::close_code::normal, ignored);
  }

  boost::system::error_code tls_error;
  boost::system::error_code ws_error;
  unsigned status = 0;

 private:
  asio::io_context io_;
  ssl::context ctx_;
  websocket::stream<ssl::stream<asio::ip::tcp::socket>> ws_;
};

// tls_gateway: a gateway on loopback serving wss:// with `material`'s second certificate, its
// integrations going to `backend` over https.
struct tls_gateway {
  tls_gateway(io_runner& io, const tls_material& m, std::uint16_t backend_port, bool trust_backend_ca = true)
      : gateway_cert(m.dir.path() / "gateway-cert.pem"), gateway_key(m.dir.path() / "gateway-key.pem") {
    const auto leaf = m.issue({"127.0.0.1"});
    apigw::testing::write_file(gateway_cert, leaf.certificate);
    apigw::testing::write_file(gateway_key, leaf.key);
    gateway_options o;
    o.port = 0;
    o.tls_certificate = gateway_cert;
    o.tls_key = gateway_key;
    if (trust_backend_ca) o.integration_ca_pem = m.ca.certificate;
    gw = std::make_unique<gateway>(io.executor(),
                                   default_dev_config(fmt::format("https://127.0.0.1:{}/ws/", backend_port)), o);
    auto started = gw->start();
    EXPECT_TRUE(started) << started.error().message;
  }

  std::filesystem::path gateway_cert;
  std::filesystem::path gateway_key;
  std::unique_ptr<gateway> gw;
};

TEST(gateway_tls, a_wss_client_reaches_an_https_backend_and_gets_a_post_through_https_connections) {
  io_runner io;
  tls_material m;
  https_backend backend(io.executor(), m);
  tls_gateway g(io, m, backend.port());

  wss_client client(g.gw->port(), m.ca.certificate);
  ASSERT_FALSE(client.tls_error) << client.tls_error.message();
  ASSERT_FALSE(client.ws_error) << client.ws_error.message();
  EXPECT_EQ(client.status, 101U);
  auto connect = backend.wait("/ws/connect");
  ASSERT_TRUE(connect) << "$connect never reached the https backend";
  const std::string id(net::find_header(connect->headers, "connectionId").value_or(""));
  ASSERT_FALSE(id.empty());

  client.send("hello over wss");
  auto message = backend.wait("/ws/default");
  ASSERT_TRUE(message) << "the message never reached the https backend";
  EXPECT_EQ(message->body, "hello over wss");
  EXPECT_EQ(net::find_header(message->headers, "connectionId").value_or(""), id);

  // The backend's answer goes back through @connections, over https, verified against the CA.
  net::client_pool_options po;
  po.extra_ca_pem = m.ca.certificate;
  net::http_client_pool pool(io.executor(), po);
  net::http_request post;
  post.method = "POST";
  post.origin = net::origin{net::scheme::https, "127.0.0.1", g.gw->port()};
  post.target = "/dev/@connections/" + id;
  post.body = "reply:hello";
  auto posted = io.run(pool.request(post));
  ASSERT_TRUE(posted) << posted.error().message;
  EXPECT_EQ(posted->status, 200U) << posted->body;
  EXPECT_EQ(client.read(), "reply:hello");

  client.close();
  EXPECT_TRUE(backend.wait("/ws/disconnect")) << "$disconnect never reached the https backend";
  pool.close();
  io.run(g.gw->shutdown(1s));
}

TEST(gateway_tls, an_integration_certificate_from_an_untrusted_ca_fails_the_connect) {
  io_runner io;
  tls_material m;
  https_backend backend(io.executor(), m);
  tls_gateway g(io, m, backend.port(), /*trust_backend_ca=*/false);
  wss_client client(g.gw->port(), m.ca.certificate);
  ASSERT_FALSE(client.tls_error) << client.tls_error.message();
  EXPECT_TRUE(client.ws_error) << "the handshake succeeded although $connect could not be called";
  EXPECT_EQ(client.status, 502U) << "$connect unreachable (certificate refused) is a 502";
  io.run(g.gw->shutdown(1s));
}

TEST(gateway_tls, plain_ws_to_the_tls_port_is_told_to_use_tls) {
  io_runner io;
  tls_material m;
  https_backend backend(io.executor(), m);
  tls_gateway g(io, m, backend.port());
  net::http_client_pool pool(io.executor());
  net::http_request get;
  get.origin = net::origin{net::scheme::http, "127.0.0.1", g.gw->port()};
  get.target = "/dev";
  auto r = io.run(pool.request(get));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 400U);
  EXPECT_NE(r->body.find("https://"), std::string::npos) << r->body;
  io.run(g.gw->shutdown(1s));
}

TEST(gateway_tls, start_refuses_unusable_files_and_a_ca_without_certificates) {
  io_runner io;
  tls_material m;
  gateway_options o;
  o.port = 0;
  o.tls_certificate = m.files.certificate;
  o.tls_key = m.dir.path() / "missing-key.pem";
  gateway bad_key(io.executor(), default_dev_config(), o);
  auto r = bad_key.start();
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == net::error::tls_config_invalid);
  EXPECT_NE(r.error().message.find("missing-key.pem"), std::string::npos) << r.error().message;

  gateway_options o2;
  o2.port = 0;
  o2.integration_ca_pem = "not a certificate";
  gateway bad_ca(io.executor(), default_dev_config(), o2);
  auto r2 = bad_ca.start();
  ASSERT_FALSE(r2);
  EXPECT_TRUE(r2.error() == error::invalid_config);
  EXPECT_NE(r2.error().message.find("integration_ca_pem"), std::string::npos) << r2.error().message;
}

TEST(gateway_tls, reload_serves_the_new_certificate_to_new_connections) {
  io_runner io;
  tls_material m;
  https_backend backend(io.executor(), m);
  tls_gateway g(io, m, backend.port());
  apigw::testing::tls_probe before(g.gw->port(), m.ca.certificate);
  ASSERT_FALSE(before.handshake());
  const auto next = m.issue({"127.0.0.1"});
  apigw::testing::write_file(g.gateway_cert, next.certificate);
  apigw::testing::write_file(g.gateway_key, next.key);
  ASSERT_TRUE(g.gw->reload_tls());
  apigw::testing::tls_probe after(g.gw->port(), m.ca.certificate);
  ASSERT_FALSE(after.handshake());
  EXPECT_EQ(after.peer_sha256(), *net::certificate_sha256(next.certificate));
  EXPECT_NE(before.peer_sha256(), after.peer_sha256());
  io.run(g.gw->shutdown(1s));
}

}  // namespace
}  // namespace apigw::gateway
