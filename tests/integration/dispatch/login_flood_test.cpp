// Fault test: a login flood. 256 unauthenticated clients post wrong passwords to the embedded
// server as fast as it answers, with the real Argon2id cost, while a logged-in user fetches a
// connect token and a page. Asserted: the user's requests succeed while the flood runs, and the
// flood is answered 429 (locked out) and 503 (the hashing queue is full) — outcomes, not timings;
// the times are printed for the record.
#include "apigw/dispatch/testing.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/server/server.hpp"
#include "apigw/store/session_store.hpp"
#include "support/io_runner.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

namespace apigw::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

constexpr int k_flood_clients = 256;

// flood_stats: the statuses the flood got, by code (0: a connection or read error).
struct flood_stats {
  std::mutex mutex;
  std::map<unsigned, std::int64_t> by_status;
  std::atomic<std::int64_t> total{0};

  void record(unsigned status) {
    std::lock_guard lock(mutex);
    ++by_status[status];
    ++total;
  }
  std::int64_t count(unsigned status) {
    std::lock_guard lock(mutex);
    return by_status[status];
  }
};

// flood_client: posts wrong passwords for one made-up user over a kept-alive connection until
// `stop`, reconnecting whenever the server closes it.
asio::awaitable<void> flood_client(std::uint16_t port, int n, std::atomic<bool>& stop, flood_stats& stats) {
  auto ex = co_await asio::this_coro::executor;
  const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  while (!stop.load()) {
    beast::tcp_stream stream(ex);
    stream.expires_after(120s);
    auto [cec] = co_await stream.async_connect(ep, asio::as_tuple(asio::use_awaitable));
    if (cec) {
      stats.record(0);
      continue;
    }
    while (!stop.load()) {
      http::request<http::string_body> req{http::verb::post, "/api/login/", 11};
      req.set(http::field::host, fmt::format("127.0.0.1:{}", port));
      req.set(http::field::content_type, "application/json");
      req.body() = fmt::format(R"({{"username":"victim{}","password":"guess{}"}})", n % 16, n);
      req.prepare_payload();
      stream.expires_after(120s);
      auto [wec, written] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
      if (wec) break;
      beast::flat_buffer buf;
      http::response<http::string_body> res;
      auto [rec, read] = co_await http::async_read(stream, buf, res, asio::as_tuple(asio::use_awaitable));
      if (rec) {
        stats.record(0);
        break;
      }
      stats.record(res.result_int());
      if (!res.keep_alive()) break;
    }
  }
}

class login_flood : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("apigw-login-flood-{}", ::getpid());
    std::filesystem::create_directories(dir_);
    auto opened = store::open_store((dir_ / "db.sqlite3").string(), clock_);
    ASSERT_TRUE(opened);
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->migrate());
    // The real Argon2id cost: the flood must cost what it costs in production.
    auth_ = std::make_unique<dispatch::builtin_authenticator>(*store_, clock_, "flood secret",
                                                              dispatch::builtin_auth_options{.secure_cookie = false});
    out_ = std::make_unique<dispatch::recording_delivery>(*store_);
    dispatch::backend_options o;
    o.log = [](std::string_view) {};
    app_ = std::make_unique<dispatch::backend>(*store_, *out_, *auth_, clock_, o);
    server_ = std::make_unique<backend_server>(*app_, server_options{}, auth_.get());
    server_->route("/app/", [](const dispatch::request&) {
      dispatch::response r;
      r.content_type = "text/html; charset=utf-8";
      r.body = "<!doctype html><title>app</title><h1>app</h1>";
      return r;
    });
    ASSERT_TRUE(server_->start());
    pool_ = std::make_unique<net::http_client_pool>(io_.executor());
  }

  void TearDown() override {
    pool_.reset();
    server_.reset();
    app_.reset();
    auth_.reset();
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  result<net::http_response> send(std::string method, std::string target, std::vector<net::http_header> headers = {},
                                  std::string body = {}) {
    net::http_request r;
    r.method = std::move(method);
    r.origin = net::origin{net::scheme::http, "127.0.0.1", server_->port()};
    r.target = std::move(target);
    r.headers = std::move(headers);
    r.body = std::move(body);
    return io_.run(pool_->request(std::move(r)));
  }

  std::filesystem::path dir_;
  manual_clock clock_;
  std::unique_ptr<store::session_store> store_;
  std::unique_ptr<dispatch::builtin_authenticator> auth_;
  std::unique_ptr<dispatch::recording_delivery> out_;
  std::unique_ptr<dispatch::backend> app_;
  std::unique_ptr<backend_server> server_;
  testing::io_runner io_;
  std::unique_ptr<net::http_client_pool> pool_;
};

// wait_until: polls `done` until it holds or `bound` passes; the bound only keeps a broken build
// from hanging, nothing is asserted about the time.
template <class F>
bool wait_until(F done, std::chrono::seconds bound) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

TEST_F(login_flood, pages_and_tokens_are_served_while_logins_are_refused) {
  ASSERT_TRUE(auth_->add_user("alice", "alice's password"));
  auto login = send("POST", "/api/login/", {{"Content-Type", "application/json"}},
                    R"({"username":"alice","password":"alice's password"})");
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 200U) << login->body;
  const auto set_cookie = std::string{net::find_header(login->headers, "Set-Cookie").value_or("")};
  const auto cookie = set_cookie.substr(0, set_cookie.find(';'));
  const auto csrf = std::string{get_string(*parse_json_object(login->body), "csrf_token").value_or("")};

  flood_stats stats;
  std::atomic<bool> stop{false};
  asio::io_context flood_io;
  for (int i = 0; i < k_flood_clients; ++i) {
    asio::co_spawn(flood_io, flood_client(server_->port(), i, stop, stats), asio::detached);
  }
  std::vector<std::thread> flood_threads;
  for (int i = 0; i < 2; ++i) flood_threads.emplace_back([&] { flood_io.run(); });
  struct stop_flood {
    std::atomic<bool>& stop;
    asio::io_context& io;
    std::vector<std::thread>& threads;
    ~stop_flood() {
      stop = true;
      io.stop();
      for (auto& t : threads) t.join();
    }
  } stopper{stop, flood_io, flood_threads};

  // The flood is under way once every client has had an answer or so.
  ASSERT_TRUE(wait_until([&] { return stats.total.load() >= k_flood_clients; }, 120s))
      << stats.total.load() << " answers";

  const auto answered_before = stats.total.load();
  const auto t0 = std::chrono::steady_clock::now();
  auto token = send("POST", "/api/ws-token/", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  const auto t1 = std::chrono::steady_clock::now();
  auto page = send("GET", "/app/", {{"Cookie", cookie}});
  const auto t2 = std::chrono::steady_clock::now();
  ASSERT_TRUE(token);
  EXPECT_EQ(token->status, 200U) << token->body;
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200U) << page->body;

  // Both refusals show up: the lockout (429) once the address has had its failures, and the full
  // hashing queue (503) while hashes are still being computed.
  const bool both = wait_until([&] { return stats.count(429) > 0 && stats.count(503) > 0; }, 120s);
  stop = true;
  std::printf("login flood: %lld answers when the user's requests were sent; ws-token %lld ms, GET /app/ %lld ms\n",
              static_cast<long long>(answered_before),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count()),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(t2 - t1).count()));
  {
    std::lock_guard lock(stats.mutex);
    for (const auto& [status, n] : stats.by_status) std::printf("  flood status %u: %lld\n", status, (long long)n);
  }
  EXPECT_TRUE(both) << "429: " << stats.count(429) << ", 503: " << stats.count(503);
  // Nothing else: no login succeeded, no error other than the three refusals.
  std::lock_guard lock(stats.mutex);
  for (const auto& [status, n] : stats.by_status) {
    EXPECT_TRUE(status == 401U || status == 429U || status == 503U) << n << " answers with status " << status;
  }
}

}  // namespace
}  // namespace apigw::server
