// Integration tests of the HTTP client pool against the server helper on loopback: keep-alive
// reuse, the per-origin bound, stale connections, every timeout, refused connections and TLS
// (with a certificate made by the test).
#include "apigw/net/http_client_pool.hpp"

#include "apigw/net/error.hpp"
#include "apigw/net/http_server.hpp"
#include "support/io_runner.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <thread>

namespace apigw::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::io_runner;

// counting_handler: answers 200 "ok" after `delay`, counting requests in flight.
struct counting_handler {
  std::chrono::milliseconds delay{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::atomic<int> served{0};

  request_handler handler() {
    return [this](incoming_request req) -> asio::awaitable<std::optional<http_response>> {
      const int now = ++in_flight;
      int seen = max_in_flight.load();
      while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
      }
      if (delay.count() > 0) {
        asio::steady_timer t(co_await asio::this_coro::executor, delay);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      --in_flight;
      ++served;
      co_return http_response{200, {{"X-Echo-Target", req.target}}, "ok:" + req.body};
    };
  }
};

http_request get(std::uint16_t port, std::string target = "/") {
  http_request r;
  r.method = "GET";
  r.origin = origin{scheme::http, "127.0.0.1", port};
  r.target = std::move(target);
  return r;
}

TEST(net_http_client_pool, keeps_one_connection_alive_across_sequential_requests) {
  io_runner io;
  counting_handler h;
  http_server server(io.executor(), h.handler());
  ASSERT_TRUE(server.start());
  http_client_pool pool(io.executor());
  for (int i = 0; i < 10; ++i) {
    auto req = get(server.port(), "/n/" + std::to_string(i));
    req.method = "POST";
    req.body = "b" + std::to_string(i);
    auto r = io.run(pool.request(std::move(req)));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200U);
    EXPECT_EQ(r->body, "ok:b" + std::to_string(i));
    EXPECT_EQ(find_header(r->headers, "x-echo-target"), "/n/" + std::to_string(i));
  }
  EXPECT_EQ(pool.stats().connections_opened, 1U);
  EXPECT_EQ(pool.stats().reused, 9U);
  EXPECT_EQ(server.connections_accepted(), 1U);
}

TEST(net_http_client_pool, bounds_connections_per_origin) {
  io_runner io;
  counting_handler h;
  h.delay = 20ms;
  http_server server(io.executor(), h.handler());
  ASSERT_TRUE(server.start());
  client_pool_options opts;
  opts.max_connections_per_origin = 3;
  http_client_pool pool(io.executor(), opts);
  // The futures are waited on a plain thread, not inside the io_context.
  std::vector<std::future<result<http_response>>> futures;
  for (int i = 0; i < 12; ++i) {
    futures.push_back(asio::co_spawn(io.executor(), pool.request(get(server.port())), asio::use_future));
  }
  int ok = 0;
  for (auto& f : futures) ok += f.get() ? 1 : 0;
  EXPECT_EQ(ok, 12);
  EXPECT_LE(h.max_in_flight.load(), 3);
  EXPECT_LE(server.connections_accepted(), 3U);
  EXPECT_LE(pool.stats().connections_opened, 3U);
}

TEST(net_http_client_pool, replaces_a_kept_alive_connection_the_server_closed) {
  io_runner io;
  counting_handler h;
  http_server_options sopts;
  sopts.read_timeout = 50ms;  // the server drops idle connections quickly
  http_server server(io.executor(), h.handler(), sopts);
  ASSERT_TRUE(server.start());
  http_client_pool pool(io.executor());
  ASSERT_TRUE(io.run(pool.request(get(server.port()))));
  std::this_thread::sleep_for(200ms);
  auto r = io.run(pool.request(get(server.port())));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(pool.stats().connections_opened, 2U);
  EXPECT_GE(pool.stats().stale_replaced, 1U);
}

TEST(net_http_client_pool, read_timeout_is_a_timeout) {
  io_runner io;
  counting_handler h;
  h.delay = 500ms;
  http_server server(io.executor(), h.handler());
  ASSERT_TRUE(server.start());
  client_pool_options opts;
  opts.timeouts.read = 100ms;
  http_client_pool pool(io.executor(), opts);
  auto r = io.run(pool.request(get(server.port())));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == condition::timeout) << r.error().message;
  EXPECT_TRUE(r.error() == error::timeout);
  EXPECT_NE(r.error().message.find("timed out"), std::string::npos);
}

TEST(net_http_client_pool, a_short_write_timeout_does_not_cut_a_longer_read) {
  // One timer serves every step of a request: armed for the write's 50 ms, it must move on to the
  // read's 2 s when the write is done, not cut the response the server sends after 300 ms, and
  // must leave the connection reusable.
  io_runner io;
  counting_handler h;
  h.delay = 300ms;
  http_server server(io.executor(), h.handler());
  ASSERT_TRUE(server.start());
  client_pool_options opts;
  opts.timeouts.write = 50ms;
  opts.timeouts.read = 2s;
  http_client_pool pool(io.executor(), opts);
  for (int i = 0; i < 2; ++i) {
    auto r = io.run(pool.request(get(server.port())));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(pool.stats().connections_opened, 1U);
  EXPECT_EQ(pool.stats().reused, 1U);
}

TEST(net_http_client_pool, waiting_for_a_busy_origin_times_out) {
  io_runner io;
  counting_handler h;
  h.delay = 400ms;
  http_server server(io.executor(), h.handler());
  ASSERT_TRUE(server.start());
  client_pool_options opts;
  opts.max_connections_per_origin = 1;
  opts.timeouts.queue = 50ms;
  http_client_pool pool(io.executor(), opts);
  auto first = asio::co_spawn(io.executor(), pool.request(get(server.port())), asio::use_future);
  std::this_thread::sleep_for(50ms);
  auto second = io.run(pool.request(get(server.port())));
  ASSERT_FALSE(second);
  EXPECT_TRUE(second.error() == condition::timeout) << second.error().message;
  EXPECT_TRUE(first.get());
}

// never_answering_server: "/never" is never answered (the handler waits far past the test);
// anything else gets 200 "fast" at once.
request_handler never_or_fast() {
  return [](incoming_request req) -> asio::awaitable<std::optional<http_response>> {
    if (req.target == "/never") {
      asio::steady_timer t(co_await asio::this_coro::executor, 1h);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return http_response{200, {}, "fast"};
  };
}

TEST(net_http_client_pool, a_request_past_its_deadline_frees_its_slot_at_once) {
  // Cap N = 2: two calls to a backend that never answers hold both slots until their 200 ms
  // deadline, which must close their connections so that the third call (N + 1), queued behind
  // them, gets a slot. Without cancellation the slots stay taken until the 30 s read timeout and
  // the third call fails at its own 10 s deadline.
  io_runner io;
  http_server server(io.executor(), never_or_fast());
  ASSERT_TRUE(server.start());
  client_pool_options opts;
  opts.max_connections_per_origin = 2;
  http_client_pool pool(io.executor(), opts);
  request_options short_deadline;
  short_deadline.timeout = 200ms;
  std::vector<std::future<result<http_response>>> stuck;
  for (int i = 0; i < 2; ++i) {
    stuck.push_back(
        asio::co_spawn(io.executor(), pool.request(get(server.port(), "/never"), short_deadline), asio::use_future));
  }
  std::this_thread::sleep_for(50ms);  // both slots taken
  request_options generous;
  generous.timeout = 10s;
  auto next = asio::co_spawn(io.executor(), pool.request(get(server.port(), "/fast"), generous), asio::use_future);
  for (auto& f : stuck) {
    auto r = f.get();
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error() == condition::timeout) << r.error().message;
    EXPECT_NE(r.error().message.find("deadline"), std::string::npos) << r.error().message;
  }
  auto r = next.get();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "fast");
  EXPECT_LE(pool.stats().connections_opened, 3U) << "the cap held";
}

TEST(net_http_client_pool, requests_from_many_threads_without_a_strand_time_out_or_succeed_each) {
  // Callers on a plain multi-threaded executor (no strand), half of them timing out: every
  // request ends exactly once with its own outcome, and the pool's bound holds. (Run under
  // ThreadSanitizer too: a step timer firing while another thread continues the request.)
  io_runner io(4);
  http_server server(io.executor(), never_or_fast());
  ASSERT_TRUE(server.start());
  client_pool_options opts;
  opts.max_connections_per_origin = 8;
  // The "/never" requests end by the read step's timer. 250 ms, not less: a "/fast" answer must
  // always come sooner, also on a slow machine (ThreadSanitizer runs ~10x slower; at 30 ms one in
  // about fifteen runs timed a "/fast" request out there).
  opts.timeouts.read = 250ms;
  http_client_pool pool(io.executor(), opts);
  std::vector<std::future<result<http_response>>> calls;
  for (int i = 0; i < 200; ++i) {
    calls.push_back(asio::co_spawn(io.executor(), pool.request(get(server.port(), i % 2 == 0 ? "/never" : "/fast")),
                                   asio::use_future));
  }
  int timed_out = 0;
  int fast = 0;
  for (auto& f : calls) {
    auto r = f.get();
    if (r) {
      EXPECT_EQ(r->body, "fast");
      ++fast;
    } else {
      EXPECT_TRUE(r.error() == condition::timeout) << r.error().message;
      ++timed_out;
    }
  }
  EXPECT_EQ(fast, 100);
  EXPECT_EQ(timed_out, 100);
  EXPECT_LE(pool.stats().connections_opened, 8U + 100U) << "each timed-out connection is replaced once";
}

TEST(net_http_client_pool, the_deadline_also_bounds_waiting_for_a_connection) {
  io_runner io;
  http_server server(io.executor(), never_or_fast());
  ASSERT_TRUE(server.start());
  client_pool_options opts;
  opts.max_connections_per_origin = 1;
  http_client_pool pool(io.executor(), opts);  // queue timeout 30 s
  auto stuck = asio::co_spawn(io.executor(), pool.request(get(server.port(), "/never")), asio::use_future);
  std::this_thread::sleep_for(50ms);
  request_options o;
  o.timeout = 100ms;
  auto r = io.run(pool.request(get(server.port(), "/fast"), o));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == condition::timeout) << r.error().message;
  EXPECT_NE(r.error().message.find("deadline"), std::string::npos) << r.error().message;
  pool.close();
  server.stop();
  stuck.wait();
}

TEST(net_http_client_pool, refused_connection_is_a_network_error) {
  io_runner io;
  std::uint16_t closed_port = 0;
  {
    counting_handler h;
    http_server probe(io.executor(), h.handler());
    ASSERT_TRUE(probe.start());
    closed_port = probe.port();
    probe.stop();
  }
  std::this_thread::sleep_for(20ms);
  http_client_pool pool(io.executor());
  auto r = io.run(pool.request(get(closed_port)));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == condition::network_error) << r.error().message;
  EXPECT_TRUE(r.error() == error::connect_failed);
  EXPECT_NE(r.error().message.find("127.0.0.1"), std::string::npos);
}

TEST(net_http_client_pool, dropped_connection_is_a_network_error_and_not_retried) {
  io_runner io;
  std::atomic<int> calls{0};
  http_server server(io.executor(), [&](incoming_request) -> asio::awaitable<std::optional<http_response>> {
    ++calls;
    co_return std::nullopt;
  });
  ASSERT_TRUE(server.start());
  http_client_pool pool(io.executor());
  auto r = io.run(pool.request(get(server.port())));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == condition::network_error) << r.error().message;
  EXPECT_EQ(calls.load(), 1);
}

TEST(net_http_client_pool, closed_pool_refuses_requests) {
  io_runner io;
  http_client_pool pool(io.executor());
  pool.close();
  auto r = io.run(pool.request(get(1)));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == condition::unavailable);
}

// --- TLS -------------------------------------------------------------------------------------

struct test_certificate {
  std::string cert_pem;
  std::string key_pem;
};

// make_certificate: a self-signed P-256 certificate for `san` ("DNS:localhost,IP:127.0.0.1").
test_certificate make_certificate(const char* san) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("apigw test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] :
       {std::pair{NID_subject_alt_name, san}, std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  auto to_string = [](BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string s(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return s;
  };
  BIO* cb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, x);
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
  test_certificate out{to_string(cb), to_string(kb)};
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

// tls_site: an https server on loopback with a certificate for `san`, and pools that trust it
// or only the system store.
struct tls_site {
  explicit tls_site(const char* san) : cert(make_certificate(san)) {
    http_server_options sopts;
    auto ctx = server_context_from_pem(cert.cert_pem, cert.key_pem);
    EXPECT_TRUE(ctx) << ctx.error().message;
    if (ctx) sopts.tls = std::make_shared<server_tls>(std::move(*ctx));
    server = std::make_unique<http_server>(io.executor(), handler.handler(), sopts);
    EXPECT_TRUE(server->start());
  }

  std::unique_ptr<http_client_pool> pool(bool trust_certificate) {
    client_pool_options opts;
    if (trust_certificate) opts.extra_ca_pem = cert.cert_pem;
    return std::make_unique<http_client_pool>(io.executor(), opts);
  }

  http_request get_from(std::string host) {
    http_request r = get(server->port(), "/secure");
    r.origin.scheme = scheme::https;
    r.origin.host = std::move(host);
    return r;
  }

  io_runner io;
  test_certificate cert;
  counting_handler handler;
  std::unique_ptr<http_server> server;
};

TEST(net_http_client_pool, https_with_a_trusted_certificate_and_matching_host) {
  tls_site site("DNS:localhost,IP:127.0.0.1");
  auto pool = site.pool(true);
  for (int i = 0; i < 3; ++i) {
    auto r = site.io.run(pool->request(site.get_from("127.0.0.1")));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "ok:");
  }
  auto by_name = site.io.run(pool->request(site.get_from("localhost")));
  ASSERT_TRUE(by_name) << by_name.error().message;
  EXPECT_EQ(pool->stats().connections_opened, 2U);  // one per origin, kept alive
}

TEST(net_http_client_pool, https_rejects_an_untrusted_certificate) {
  tls_site site("DNS:localhost,IP:127.0.0.1");
  auto pool = site.pool(false);
  auto r = site.io.run(pool->request(site.get_from("127.0.0.1")));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::tls_failed) << r.error().message;
  EXPECT_TRUE(r.error() == condition::network_error);
  EXPECT_NE(r.error().message.find("certificate"), std::string::npos) << r.error().message;
  EXPECT_EQ(site.handler.served.load(), 0);
}

TEST(net_http_client_pool, https_rejects_a_certificate_for_another_host) {
  tls_site site("DNS:ws.example.test");
  auto pool = site.pool(true);
  auto r = site.io.run(pool->request(site.get_from("127.0.0.1")));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::tls_failed) << r.error().message;
  EXPECT_EQ(site.handler.served.load(), 0);
}

}  // namespace
}  // namespace apigw::net
