// The embedded backend server speaking HTTPS from certificate files, over real sockets on
// loopback: requests served with the file's certificate, SIGHUP (a real signal, raised in this
// process) swapping it for new connections, and clear errors for unusable files.
#include "apigw/server/server.hpp"

#include "apigw/dispatch/testing.hpp"
#include "apigw/net/error.hpp"
#include "apigw/store/session_store.hpp"
#include "support/tls_files.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <thread>

namespace apigw::server {
namespace {

using namespace std::chrono_literals;
using apigw::testing::tls_material;
using apigw::testing::tls_probe;

class server_tls_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_store((material_.dir.path() / "db.sqlite3").string(), clock_);
    ASSERT_TRUE(opened);
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->migrate());
    auth_ = std::make_unique<dispatch::builtin_authenticator>(
        *store_, clock_, "secret", dispatch::builtin_auth_options{.secure_cookie = false, .fast_hashing = true});
    out_ = std::make_unique<dispatch::recording_delivery>(*store_);
    dispatch::backend_options o;
    o.log = [](std::string_view) {};
    app_ = std::make_unique<dispatch::backend>(*store_, *out_, *auth_, clock_, o);
  }

  server_options tls_options() const {
    server_options so;
    so.tls_certificate = material_.files.certificate;
    so.tls_key = material_.files.key;
    return so;
  }

  std::string fingerprint_of_new_connection(std::uint16_t port) {
    tls_probe probe(port, material_.ca.certificate);
    if (auto ec = probe.handshake()) return "handshake failed: " + ec.message();
    return probe.peer_sha256();
  }

  tls_material material_;
  manual_clock clock_;
  std::unique_ptr<store::session_store> store_;
  std::unique_ptr<dispatch::builtin_authenticator> auth_;
  std::unique_ptr<dispatch::recording_delivery> out_;
  std::unique_ptr<dispatch::backend> app_;
};

TEST_F(server_tls_test, serves_https_and_sighup_reloads_the_certificate) {
  backend_server http(*app_, tls_options(), auth_.get());
  ASSERT_TRUE(http.start());
  const auto first = *net::certificate_sha256(material_.leaf.certificate);
  tls_probe open_conn(http.port(), material_.ca.certificate);
  ASSERT_FALSE(open_conn.handshake());
  EXPECT_EQ(open_conn.peer_sha256(), first);
  EXPECT_EQ(open_conn.get("/healthz"), R"(200 {"status":"ok"})");

  const auto next = material_.issue();
  material_.install(next);
  const auto second = *net::certificate_sha256(next.certificate);
  ASSERT_EQ(fingerprint_of_new_connection(http.port()), first) << "nothing changes before the signal";
  ASSERT_EQ(std::raise(SIGHUP), 0);
  // The signal is handled on the server's I/O threads: wait (up to 20 s) until a new connection
  // is served the new certificate.
  std::string seen;
  for (const auto until = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < until;) {
    seen = fingerprint_of_new_connection(http.port());
    if (seen != first) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(seen, second);
  EXPECT_EQ(open_conn.get("/healthz"), R"(200 {"status":"ok"})") << "the open connection carries on";
  EXPECT_EQ(open_conn.peer_sha256(), first);

  // A broken file on the next SIGHUP: the certificate in use stays, and reload_tls says why.
  apigw::testing::write_file(material_.files.certificate, "garbage");
  ASSERT_EQ(std::raise(SIGHUP), 0);
  auto r = http.reload_tls();
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == condition::invalid_argument);
  EXPECT_NE(r.error().message.find(material_.files.certificate.string()), std::string::npos) << r.error().message;
  EXPECT_EQ(fingerprint_of_new_connection(http.port()), second);
  http.shutdown();
}

TEST_F(server_tls_test, start_fails_naming_a_key_that_does_not_fit) {
  apigw::testing::write_file(material_.files.key, material_.issue().key);
  backend_server http(*app_, tls_options(), auth_.get());
  auto r = http.start();
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == net::error::tls_config_invalid);
  EXPECT_NE(r.error().message.find(material_.files.key.string()), std::string::npos) << r.error().message;
}

TEST_F(server_tls_test, a_certificate_without_a_key_is_refused) {
  auto so = tls_options();
  so.tls_key.clear();
  backend_server http(*app_, so, auth_.get());
  auto r = http.start();
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == condition::invalid_argument);
  EXPECT_NE(r.error().message.find("go together"), std::string::npos) << r.error().message;
}

TEST_F(server_tls_test, a_plain_server_has_nothing_to_reload) {
  backend_server http(*app_, {}, auth_.get());
  ASSERT_TRUE(http.start());
  auto r = http.reload_tls();
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == condition::invalid_argument);
}

}  // namespace
}  // namespace apigw::server
