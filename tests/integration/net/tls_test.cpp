// Integration tests of server-side TLS: contexts from files and their errors, https through the
// server helper, the protocol floor, plain HTTP and stalled handshakes on a TLS port, reloading
// the certificate, and the upgrade hand-off over TLS. Real sockets on loopback, real OpenSSL.
#include "apigw/net/tls.hpp"

#include "apigw/net/error.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/net/http_server.hpp"
#include "support/io_runner.hpp"
#include "support/tls_files.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <future>
#include <memory>
#include <string>

namespace apigw::net {
namespace {

namespace asio = boost::asio;
using testing::io_runner;
using testing::tls_material;
using testing::tls_probe;

// echo_handler: answers "ok:<target>".
request_handler echo_handler() {
  return [](incoming_request req) -> asio::awaitable<std::optional<http_response>> {
    co_return http_response{200, {{"Content-Type", "text/plain"}}, "ok:" + req.target};
  };
}

// tls_server: an https server on loopback serving `material`'s certificate files.
struct tls_server {
  explicit tls_server(http_server_options opts = {}) {
    auto holder = server_tls::from_files(material.files);
    EXPECT_TRUE(holder) << holder.error().message;
    tls = *holder;
    opts.tls = tls;
    server = std::make_unique<http_server>(io.executor(), echo_handler(), std::move(opts));
    auto started = server->start();
    EXPECT_TRUE(started) << started.error().message;
  }
  std::uint16_t port() const { return server->port(); }

  io_runner io;
  tls_material material;
  std::shared_ptr<server_tls> tls;
  std::unique_ptr<http_server> server;
};

// raw_exchange: sends `bytes` on a plain TCP connection to the port and reads until the server
// closes it (a 20 s receive timeout keeps a broken server from hanging the test; it is reported,
// not relied on).
std::string raw_exchange(std::uint16_t port, const std::string& bytes, bool* closed_by_server = nullptr) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  timeval tv{20, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (!bytes.empty()) asio::write(s, asio::buffer(bytes));
  std::string out;
  boost::system::error_code ec;
  asio::read(s, asio::dynamic_buffer(out), ec);
  if (closed_by_server != nullptr) *closed_by_server = ec == asio::error::eof || ec == asio::error::connection_reset;
  return out;
}

// --- contexts from files ---------------------------------------------------------------------

TEST(net_tls, a_missing_file_is_a_clear_error) {
  tls_material m;
  auto r = load_server_context({m.dir.path() / "nope.pem", m.files.key});
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::tls_config_invalid);
  EXPECT_TRUE(r.error() == condition::invalid_argument);
  EXPECT_NE(r.error().message.find("nope.pem"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos) << r.error().message;
}

TEST(net_tls, a_key_of_another_certificate_is_refused) {
  tls_material m;
  testing::write_file(m.files.key, m.issue().key);
  auto r = load_server_context(m.files);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::tls_config_invalid);
  EXPECT_NE(r.error().message.find("does not belong"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(m.files.key.string()), std::string::npos) << r.error().message;
}

TEST(net_tls, files_without_pem_are_refused) {
  tls_material m;
  testing::write_file(m.files.certificate, "not a certificate\n");
  auto r = load_server_context(m.files);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("holds no PEM certificate"), std::string::npos) << r.error().message;
  tls_material k;
  testing::write_file(k.files.key, k.leaf.certificate);  // a certificate where the key should be
  auto r2 = load_server_context(k.files);
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("no unencrypted PEM private key"), std::string::npos) << r2.error().message;
}

TEST(net_tls, the_context_refuses_versions_below_1_2) {
  tls_material m;
  auto ctx = load_server_context(m.files);
  ASSERT_TRUE(ctx) << ctx.error().message;
  EXPECT_EQ(SSL_CTX_get_min_proto_version((*ctx)->native_handle()), TLS1_2_VERSION);
}

TEST(net_tls, a_certificate_is_issued_for_the_names_given) {
  auto ca = make_local_ca("test CA");
  ASSERT_TRUE(ca) << ca.error().message;
  auto bad = issue_server_certificate(*ca, {"a,b"});
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error() == condition::invalid_argument);
  EXPECT_FALSE(issue_server_certificate(*ca, {}));
  auto leaf = issue_server_certificate(*ca, {"localhost", "127.0.0.1"});
  ASSERT_TRUE(leaf) << leaf.error().message;
  auto fp = certificate_sha256(leaf->certificate);
  ASSERT_TRUE(fp);
  EXPECT_EQ(fp->size(), 64U);
  auto spki = spki_sha256_base64(leaf->certificate);
  ASSERT_TRUE(spki);
  EXPECT_EQ(spki->size(), 44U);  // 32 bytes in base64
}

// --- the server ------------------------------------------------------------------------------

TEST(net_tls, https_request_is_served_with_the_certificate_from_the_files) {
  tls_server site;
  client_pool_options copts;
  copts.extra_ca_pem = site.material.ca.certificate;
  http_client_pool pool(site.io.executor(), copts);
  http_request req;
  req.origin = origin{scheme::https, "127.0.0.1", site.port()};
  req.target = "/hello";
  auto r = site.io.run(pool.request(req));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200U);
  EXPECT_EQ(r->body, "ok:/hello");

  tls_probe probe(site.port(), site.material.ca.certificate);
  ASSERT_FALSE(probe.handshake());
  EXPECT_EQ(probe.peer_sha256(), *certificate_sha256(site.material.leaf.certificate));
  EXPECT_EQ(probe.get("/again"), "200 ok:/again");
}

TEST(net_tls, a_tls_1_1_client_is_refused_and_1_2_is_accepted) {
  tls_server site;
  tls_probe old(site.port(), site.material.ca.certificate, TLS1_1_VERSION, TLS1_1_VERSION);
  const auto ec = old.handshake();
  EXPECT_TRUE(ec) << "a TLS 1.1 handshake succeeded";
  tls_probe v12(site.port(), site.material.ca.certificate, TLS1_2_VERSION, TLS1_2_VERSION);
  ASSERT_FALSE(v12.handshake());
  EXPECT_EQ(v12.version(), "TLSv1.2");
  EXPECT_EQ(v12.get("/v12"), "200 ok:/v12");
  tls_probe any(site.port(), site.material.ca.certificate);
  ASSERT_FALSE(any.handshake());
  EXPECT_EQ(any.version(), "TLSv1.3");
}

TEST(net_tls, plain_http_to_a_tls_port_gets_a_clear_answer_and_hurts_no_one) {
  tls_server site;
  tls_probe before(site.port(), site.material.ca.certificate);
  ASSERT_FALSE(before.handshake());
  bool closed = false;
  const auto answer = raw_exchange(site.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0U) << answer;
  EXPECT_NE(answer.find("use https://"), std::string::npos) << answer;
  // A connection opened before and one opened after are served.
  EXPECT_EQ(before.get("/before"), "200 ok:/before");
  tls_probe after(site.port(), site.material.ca.certificate);
  ASSERT_FALSE(after.handshake());
  EXPECT_EQ(after.get("/after"), "200 ok:/after");
}

TEST(net_tls, a_handshake_that_never_finishes_is_dropped) {
  http_server_options opts;
  opts.handshake_timeout = std::chrono::milliseconds(200);
  tls_server site(opts);
  // A client that connects and sends half a ClientHello, then nothing: the server closes it.
  bool closed = false;
  const auto answer = raw_exchange(site.port(), std::string("\x16\x03\x01\x02\x00\x01", 6), &closed);
  EXPECT_TRUE(closed) << "the server kept a stalled handshake open";
  EXPECT_TRUE(answer.empty());
  // One that sends nothing at all, too.
  bool silent_closed = false;
  raw_exchange(site.port(), "", &silent_closed);
  EXPECT_TRUE(silent_closed);
  tls_probe probe(site.port(), site.material.ca.certificate);
  ASSERT_FALSE(probe.handshake());
  EXPECT_EQ(probe.get("/fine"), "200 ok:/fine");
}

TEST(net_tls, reload_serves_the_new_certificate_to_new_connections_only) {
  tls_server site;
  const auto first = *certificate_sha256(site.material.leaf.certificate);
  tls_probe old_conn(site.port(), site.material.ca.certificate);
  ASSERT_FALSE(old_conn.handshake());
  EXPECT_EQ(old_conn.peer_sha256(), first);

  const auto next = site.material.issue();
  site.material.install(next);
  ASSERT_TRUE(site.tls->reload());
  EXPECT_EQ(site.tls->generation(), 1U);
  const auto second = *certificate_sha256(next.certificate);
  ASSERT_NE(first, second);

  tls_probe new_conn(site.port(), site.material.ca.certificate);
  ASSERT_FALSE(new_conn.handshake());
  EXPECT_EQ(new_conn.peer_sha256(), second);
  EXPECT_EQ(old_conn.get("/old"), "200 ok:/old");  // the open connection carries on
  EXPECT_EQ(old_conn.peer_sha256(), first);

  // A broken file: reload fails naming it, and the certificate in use stays.
  testing::write_file(site.material.files.key, "garbage");
  auto failed = site.tls->reload();
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find(site.material.files.key.string()), std::string::npos) << failed.error().message;
  tls_probe after_failure(site.port(), site.material.ca.certificate);
  ASSERT_FALSE(after_failure.handshake());
  EXPECT_EQ(after_failure.peer_sha256(), second);
}

TEST(net_tls, an_upgrade_over_tls_hands_over_the_tls_stream) {
  io_runner io;
  tls_material material;
  auto holder = server_tls::from_files(material.files);
  ASSERT_TRUE(holder) << holder.error().message;
  http_server_options opts;
  opts.tls = *holder;
  std::promise<std::string> handed;
  opts.on_upgrade = [&](upgraded_stream s, incoming_request req) {
    auto* tls = std::get_if<std::unique_ptr<tls_connection>>(&s);
    if (tls == nullptr) {
      handed.set_value("plain socket");
      return;
    }
    handed.set_value(req.target);
    // The new owner speaks on the TLS stream it was given.
    std::shared_ptr<tls_connection> conn = std::move(*tls);
    asio::co_spawn(
        conn->stream.get_executor(),
        [conn]() -> asio::awaitable<void> {
          co_await asio::async_write(conn->stream, asio::buffer(std::string_view("upgraded over tls\n")),
                                     asio::use_awaitable);
        },
        asio::detached);
  };
  http_server server(io.executor(), echo_handler(), std::move(opts));
  ASSERT_TRUE(server.start());
  tls_probe probe(server.port(), material.ca.certificate);
  ASSERT_FALSE(probe.handshake());
  const std::string upgrade =
      "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  asio::write(probe.stream(), asio::buffer(upgrade));
  EXPECT_EQ(handed.get_future().get(), "/chat");
  asio::streambuf in;
  asio::read_until(probe.stream(), in, '\n');
  EXPECT_EQ(std::string(asio::buffers_begin(in.data()), asio::buffers_end(in.data())), "upgraded over tls\n");
}

}  // namespace
}  // namespace apigw::net
