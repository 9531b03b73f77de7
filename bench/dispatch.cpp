// apigw-bench-dispatch: backend dispatch throughput. Integration requests, built exactly as API
// Gateway sends them, go over keep-alive HTTP connections to the embedded backend server; each
// runs every check, loads its session from SQLite (one UPDATE ... RETURNING), and its handler
// replies through the fan-out sender to a local @connections endpoint. A run ends when every
// request was answered and every reply delivered; the rate counts that whole time.
//
// Options (KEY=VALUE arguments): requests=20000 connections=1000 concurrency=64 workers=2
// io_threads=1. The last line is machine-readable:
//   RESULT dispatch req_per_s=<x> p50_ms=<y> p99_ms=<z>
#include "key_values.hpp"

#include "apigw/dispatch/backend.hpp"
#include "apigw/dispatch/testing.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/net/http_server.hpp"
#include "apigw/server/server.hpp"
#include "apigw/store/session_store.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using namespace apigw;
using steady = std::chrono::steady_clock;

struct bench_config {
  std::size_t requests = 20000;
  std::size_t connections = 1000;
  std::size_t concurrency = 64;
  std::size_t workers = 2;  // one per core of the 2-core machine the budget is set on
  std::size_t io_threads = 1;
};

bench_config parse_args(int argc, char** argv) {
  bench_config c;
  bench::key_values keys;
  keys.counts = {{"requests", &c.requests},
                 {"connections", &c.connections},
                 {"concurrency", &c.concurrency},
                 {"workers", &c.workers},
                 {"io_threads", &c.io_threads}};
  bench::parse_key_values(argc, argv, keys,
                          "apigw-bench-dispatch [requests=N] [connections=N] [concurrency=N] [workers=N] "
                          "[io_threads=N]");
  return c;
}

std::string cid(std::size_t n) {
  auto s = fmt::format("b{:014d}=", n);
  return s;
}

// echo_view: the measured handler: reads its session and replies through the sender.
class echo_view : public view {
 public:
  echo_view() {
    handle("echo", [](request_context& ctx) {
      (void)ctx.reply(json::object{{"type", "echo"}, {"count", ctx.session()->request_count}});
      return response::ok();
    });
  }
};

// load: `concurrency` loops, each sending its share of the requests one after another.
asio::awaitable<void> client_loop(net::http_client_pool& pool, const dispatch::fake_gateway& gw, std::uint16_t port,
                                  std::size_t first_conn, std::size_t connections, std::size_t n,
                                  std::vector<double>& latencies_ms, std::atomic<std::size_t>& failures) {
  for (std::size_t i = 0; i < n; ++i) {
    auto req = gw.message_request(cid(first_conn + (i % connections)), R"({"handler":"echo","text":"hello"})");
    net::http_request r;
    r.method = "POST";
    r.origin = net::origin{net::scheme::http, "127.0.0.1", port};
    r.target = "/ws/default";
    for (auto& h : req.headers) {
      if (h.name != "Content-Length") r.headers.push_back({h.name, h.value});
    }
    r.body = std::move(req.body);
    const auto t0 = steady::now();
    auto resp = co_await pool.request(std::move(r));
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - t0).count());
    if (!resp || resp->status != 200) ++failures;
  }
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[idx];
}

}  // namespace

int main(int argc, char** argv) {
  const auto cfg = parse_args(argc, argv);
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("apigw-bench-dispatch-{}", ::getpid());
  std::filesystem::create_directories(dir);

  // The local @connections endpoint: answers 200 at once and counts.
  asio::io_context mgmt_io;
  std::atomic<std::size_t> delivered{0};
  net::http_server connections(mgmt_io.get_executor(),
                               [&](net::incoming_request) -> asio::awaitable<std::optional<net::http_response>> {
                                 ++delivered;
                                 co_return net::http_response{};
                               },
                               {});
  if (auto s = connections.start(); !s) {
    std::fprintf(stderr, "cannot start the @connections endpoint: %s\n", s.error().message.c_str());
    return 1;
  }
  std::thread mgmt_thread([&] { mgmt_io.run(); });

  int rc = 0;
  {
    auto st = store::open_store((dir / "bench.sqlite3").string(), system_clock_source::instance());
    if (!st || !(*st)->migrate()) {
      std::fprintf(stderr, "cannot open the SQLite store in %s\n", dir.c_str());
      return 1;
    }
    auto& db = **st;
    store::gateway g;
    g.name = "bench";
    g.api_id = "abc123defg";
    g.endpoint = fmt::format("http://127.0.0.1:{}/dev", connections.port());
    auto gw_row = db.upsert_gateway(g);
    for (std::size_t i = 0; i < cfg.connections; ++i) (void)db.create_session(cid(i), std::nullopt, gw_row->id);

    mgmt::sender sender;
    dispatch::sender_delivery out(sender, db);
    dispatch::builtin_authenticator auth(db, system_clock_source::instance(), "bench secret");
    dispatch::backend_options o;
    o.security.use_ws_token = false;
    o.workers = cfg.workers;
    o.queue_capacity = 4096;
    dispatch::backend app(db, out, auth, system_clock_source::instance(), o);
    echo_view v;
    server::backend_server http(app, {.io_threads = cfg.io_threads});
    http.mount("/ws/", v);
    if (auto s = http.start(); !s) {
      std::fprintf(stderr, "cannot start the backend server: %s\n", s.error().message.c_str());
      return 1;
    }
    dispatch::fake_gateway gw(app, v, {.host = "127.0.0.1"});

    asio::io_context client_io;
    net::client_pool_options po;
    po.max_connections_per_origin = cfg.concurrency;
    net::http_client_pool pool(client_io.get_executor(), po);
    std::vector<std::vector<double>> lat(cfg.concurrency);
    std::atomic<std::size_t> failures{0};
    const auto per_loop = cfg.requests / cfg.concurrency;
    const auto conns_per_loop = std::max<std::size_t>(1, cfg.connections / cfg.concurrency);

    // Warm-up: connections, statement cache, page cache.
    {
      std::vector<double> ignored;
      std::atomic<std::size_t> warm_failures{0};
      auto f =
          asio::co_spawn(client_io, client_loop(pool, gw, http.port(), 0, cfg.connections, 200, ignored, warm_failures),
                         asio::use_future);
      client_io.run();
      f.get();
      client_io.restart();
      while (delivered.load() < 200) std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }

    const auto before = delivered.load();
    const auto t0 = steady::now();
    for (std::size_t l = 0; l < cfg.concurrency; ++l) {
      asio::co_spawn(client_io,
                     client_loop(pool, gw, http.port(), (l * conns_per_loop) % cfg.connections, conns_per_loop,
                                 per_loop, lat[l], failures),
                     asio::detached);
    }
    client_io.run();
    const auto answered = steady::now();
    const auto total = per_loop * cfg.concurrency;
    const auto deadline = steady::now() + std::chrono::seconds{30};
    while (delivered.load() - before < total && steady::now() < deadline) std::this_thread::yield();
    const auto t1 = steady::now();
    const auto replies = delivered.load() - before;

    std::vector<double> all;
    for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    const double rate = static_cast<double>(total) / secs;
    std::printf("dispatch: %zu requests over %zu keep-alive connections (%zu sessions, %zu workers, %zu io threads)\n",
                total, cfg.concurrency, cfg.connections, cfg.workers, cfg.io_threads);
    std::printf("  answered in %.3f s, all replies delivered after %.3f s\n",
                std::chrono::duration<double>(answered - t0).count(), secs);
    std::printf("  failures %zu, replies delivered %zu of %zu\n", failures.load(), replies, total);
    if (failures.load() != 0 || replies != total) rc = 1;
    http.shutdown();
    app.stop();
    std::printf("RESULT dispatch req_per_s=%.0f p50_ms=%.3f p99_ms=%.3f\n", rate, percentile(all, 0.50),
                percentile(all, 0.99));
  }
  connections.stop();
  mgmt_io.stop();
  mgmt_thread.join();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return rc;
}
