// apigw-bench-gateway: the local gateway under load, run the way a user runs it. Three processes:
// the real `apigw-ws gateway` binary; a minimal C++ backend (net::http_server: 200 to $connect
// and $disconnect, the body echoed back on $default); and this one, the load client.
//
// 1. Idle connections: `conns` WebSocket clients connect (each through $connect) and stay idle;
//    the gateway's resident memory (VmRSS) before and after gives its growth per connection.
// 2. Two-way route: `route_clients` of them send messages through the two-way `$default` route
//    for `seconds`, `window` messages in flight each; every reply is counted. The same load sent
//    straight to the backend over keep-alive HTTP gives the side-by-side reference: the share of
//    the backend-only rate that survives the gateway. The two alternate in `rounds` slices each.
// 3. @connections: `posts` PostToConnection calls over `post_concurrency` keep-alive HTTP
//    connections, spread over every open connection; the rate counts until every posted frame
//    was received by its client.
//
// Options (KEY=VALUE): conns=10000 route_clients=64 window=4 seconds=3 rounds=6 posts=50000
// post_concurrency=64 gateway_threads=2 gateway=PATH (default: the apigw-ws built alongside).
// The last line is machine-readable:
//   RESULT gateway conns=<N> kib_per_conn=<x> route_msgs_per_s=<y> direct_req_per_s=<d> route_share=<y/d>
//          gw_cpu_us_per_msg=<c> post_per_s=<z> gw_sys_us_per_msg=<k> others_us_per_msg=<o>
//          direct_us_per_req=<r> gw_us_for_half=<a>
// (direct_req_per_s: the reference rate straight to the backend; route_share: the route rate over it;
// gw_cpu_us_per_msg: the gateway's user + system CPU time over the route slices per message, and
// gw_sys_us_per_msg the system part of it; others_us_per_msg: the load client's and the backend's
// CPU time per routed message; direct_us_per_req: all three processes' per direct request;
// gw_us_for_half: the gateway's CPU per message that would leave a route share of 0.5, see
// route_costs.)
#include "key_values.hpp"
#include "processes.hpp"

#include "apigw/net/http_client_pool.hpp"
#include "apigw/net/http_server.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#ifndef APIGW_WS_BINARY
#define APIGW_WS_BINARY "apigw-ws"
#endif

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace apigw;
using namespace apigw::bench;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct bench_config {
  std::size_t conns = 10000;
  std::size_t route_clients = 64;
  std::size_t window = 4;
  std::size_t seconds = 3;
  std::size_t rounds = 6;  // route and direct slices, alternating
  std::size_t posts = 50000;
  std::size_t post_concurrency = 64;
  std::size_t gateway_threads = 2;
  std::size_t verbose = 0;  // 1: the gateway logs every event to stderr
  std::size_t hold = 0;     // seconds to wait with the idle connections open (to inspect the gateway)
  std::string gateway = APIGW_WS_BINARY;
};

bench_config parse_args(int argc, char** argv) {
  bench_config c;
  bench::key_values keys;
  keys.counts = {{"conns", &c.conns},
                 {"route_clients", &c.route_clients},
                 {"rounds", &c.rounds},
                 {"window", &c.window},
                 {"seconds", &c.seconds},
                 {"posts", &c.posts},
                 {"post_concurrency", &c.post_concurrency},
                 {"gateway_threads", &c.gateway_threads},
                 {"verbose", &c.verbose},
                 {"hold", &c.hold}};
  keys.may_be_zero = {"verbose", "hold"};
  keys.texts = {{"gateway", &c.gateway}};
  bench::parse_key_values(
      argc, argv, keys,
      "apigw-bench-gateway [conns=N] [route_clients=N] [window=N] [seconds=N] [posts=N] "
      "[rounds=N] [post_concurrency=N] [gateway_threads=N] [verbose=0|1] [hold=SECONDS] [gateway=PATH]");
  c.route_clients = std::min(c.route_clients, c.conns);
  return c;
}

// route_costs: where the CPU goes per message, in microseconds, and what that leaves the gateway.
// A phase's rate is the cores it keeps busy over the CPU time the three processes spend per
// message. For the route to reach half the direct rate with the cores it keeps busy, the three
// together may spend `busy_route / (0.5 * direct rate)` per routed message; less what the load
// client and the backend are measured to spend, that is the gateway's allowance
// (`gw_us_for_half`), to set beside the kernel's part of the gateway's time (`gw_sys_us`, mostly
// its two loopback sends and two receives) and beside the backend's whole cost per direct request
// (an echo server on the same net code).
struct route_costs {
  double gw_us = 0;              // the gateway, user + system, per routed message
  double gw_sys_us = 0;          // of which system
  double others_us = 0;          // the load client and the backend per routed message
  double direct_us = 0;          // all three per direct request (the gateway idle, the others busy)
  double backend_direct_us = 0;  // of which the backend: an echo server's cost per request
  double busy_route = 0;         // cores busy (all three processes) during the route slices
  double busy_direct = 0;        // and during the direct slices
  double gw_us_for_half = 0;

  static route_costs of(const cpu_sample& route, std::uint64_t replies, steady::duration route_time,
                        const cpu_sample& direct, std::uint64_t requests, steady::duration direct_time) {
    route_costs c;
    const auto secs = [](steady::duration d) { return std::max(1e-9, std::chrono::duration<double>(d).count()); };
    c.busy_route = route.total() / secs(route_time);
    c.busy_direct = direct.total() / secs(direct_time);
    if (replies == 0 || requests == 0) return c;
    const auto per = [](double seconds, std::uint64_t n) { return seconds * 1e6 / static_cast<double>(n); };
    c.gw_us = per(route.gateway.total(), replies);
    c.gw_sys_us = per(route.gateway.sys, replies);
    c.others_us = per(route.backend.total() + route.client.total(), replies);
    c.direct_us = per(direct.total(), requests);
    c.backend_direct_us = per(direct.backend.total(), requests);
    const double direct_rate = static_cast<double>(requests) / secs(direct_time);
    c.gw_us_for_half = c.busy_route / (0.5 * direct_rate) * 1e6 - c.others_us;
    return c;
  }
};

std::uint16_t free_port() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// run_backend: the child process serving the integrations until killed. Writes its port to `fd`.
[[noreturn]] void run_backend(int fd) {
  asio::io_context io;
  net::http_server_options so;
  so.max_connections = 16384;
  net::http_server server(
      io.get_executor(),
      [](net::incoming_request req) -> asio::awaitable<std::optional<net::http_response>> {
        net::http_response r;
        if (req.target == "/default") {
          if (req.body == "whoami") {
            r.body = "i" + std::string(net::find_header(req.headers, "connectionId").value_or(""));
          } else {
            r.body = std::move(req.body);
          }
        }
        co_return r;
      },
      so);
  if (auto s = server.start(); !s) {
    std::fprintf(stderr, "backend: %s\n", s.error().message.c_str());
    std::_Exit(1);
  }
  const std::uint16_t port = server.port();
  if (::write(fd, &port, sizeof port) != sizeof port) std::_Exit(1);
  ::close(fd);
  io.run();
  std::_Exit(0);
}

// The gateway's configuration: one API, stage "bench", all three routes to the backend, $default
// two-way and given the connection id in a header (so a client can ask for its own id).
std::string gateway_config(std::uint16_t backend_port) {
  const auto uri = [&](std::string_view path) { return fmt::format("http://127.0.0.1:{}/{}", backend_port, path); };
  return fmt::format(R"({{"apis": [{{"apiId": "benchapi01", "name": "bench",
  "stages": [{{"stageName": "bench"}}],
  "integrations": [
    {{"integrationId": "iconnect", "integrationUri": "{}"}},
    {{"integrationId": "idisconnect", "integrationUri": "{}"}},
    {{"integrationId": "idefault", "integrationUri": "{}",
     "requestParameters": {{"integration.request.header.connectionId": "context.connectionId"}}}}],
  "routes": [
    {{"routeKey": "$connect", "target": "integrations/iconnect"}},
    {{"routeKey": "$disconnect", "target": "integrations/idisconnect"}},
    {{"routeKey": "$default", "target": "integrations/idefault", "routeResponseSelectionExpression": "$default",
     "routeResponses": [{{"routeResponseKey": "$default"}}]}}]
}}]}})",
                     uri("connect"), uri("disconnect"), uri("default"));
}

// ---------------------------------------------------------------------------------------------
// The load client: every WebSocket client is a coroutine on the one load thread. Frames a client
// receives start with 'i' (its own connection id, the answer to "whoami"), 'r' (a two-way reply)
// or 'p' (a PostToConnection).

using ws_client = websocket::stream<beast::tcp_stream>;

struct client_conn {
  explicit client_conn(asio::any_io_executor ex) : ws(std::move(ex)) {}
  ws_client ws;
  std::string id;
};
using client_ptr = std::shared_ptr<client_conn>;

struct load_state {
  std::uint16_t port = 0;
  std::vector<client_ptr> clients;  // load thread only
  std::atomic<std::size_t> opened{0};
  std::atomic<std::size_t> failed{0};
  std::atomic<std::size_t> ids_known{0};
  std::atomic<std::uint64_t> replies{0};
  std::atomic<std::uint64_t> posts_received{0};
  std::atomic<std::uint64_t> post_failures{0};
};

asio::awaitable<bool> open_client(load_state& st, client_conn& c) {
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), st.port);
  auto [cec] = co_await beast::get_lowest_layer(c.ws).async_connect(ep, use_tuple);
  if (cec) co_return false;
  beast::get_lowest_layer(c.ws).expires_never();
  auto [hec] = co_await c.ws.async_handshake("127.0.0.1", "/bench", use_tuple);
  co_return !hec;
}

// idle_reader: an idle client: reads (and counts) what it receives until the connection ends.
asio::awaitable<void> idle_reader(load_state& st, client_ptr c) {
  beast::flat_buffer buf;
  for (;;) {
    auto [ec, n] = co_await c->ws.async_read(buf, use_tuple);
    if (ec) co_return;
    const std::string_view frame(static_cast<const char*>(buf.data().data()), buf.size());
    if (!frame.empty() && frame.front() == 'i') {
      c->id = std::string(frame.substr(1));
      ++st.ids_known;
    } else if (!frame.empty() && frame.front() == 'p') {
      ++st.posts_received;
    }
    buf.consume(buf.size());
  }
}

// opener: opens clients `next`, `next + step`, ... until `total` are open (or failed).
asio::awaitable<void> opener(load_state& st, std::atomic<std::size_t>& next, std::size_t total) {
  auto ex = co_await asio::this_coro::executor;
  for (std::size_t i = next++; i < total; i = next++) {
    auto c = std::make_shared<client_conn>(ex);
    if (!co_await open_client(st, *c)) {
      ++st.failed;
      continue;
    }
    st.clients.push_back(c);
    ++st.opened;
    asio::co_spawn(ex, idle_reader(st, c), asio::detached);
  }
}

asio::awaitable<void> whoami(client_ptr c) {
  auto [ec, n] = co_await c->ws.async_write(asio::buffer(std::string_view("whoami")), use_tuple);
  (void)ec;
}

// router: a client of its own that keeps `window` messages in flight on the two-way route until
// `until`, then collects the replies still due.
asio::awaitable<void> router(load_state& st, std::size_t window, steady::time_point until,
                             std::atomic<std::size_t>& done) {
  auto ex = co_await asio::this_coro::executor;
  auto c = std::make_shared<client_conn>(ex);
  if (co_await open_client(st, *c)) {
    const std::string_view msg = "r: a message through the two-way route";
    std::size_t outstanding = 0;
    bool ok = true;
    for (std::size_t i = 0; i < window && ok; ++i) {
      auto [ec, n] = co_await c->ws.async_write(asio::buffer(msg), use_tuple);
      ok = !ec;
      if (ok) ++outstanding;
    }
    beast::flat_buffer buf;
    while (ok && outstanding > 0) {
      auto [ec, n] = co_await c->ws.async_read(buf, use_tuple);
      if (ec) break;
      buf.consume(buf.size());
      --outstanding;
      ++st.replies;
      if (steady::now() < until) {
        auto [wec, wn] = co_await c->ws.async_write(asio::buffer(msg), use_tuple);
        if (wec) break;
        ++outstanding;
      }
    }
    auto [cec] = co_await c->ws.async_close(websocket::close_code::normal, use_tuple);
    (void)cec;
  } else {
    ++st.failed;
  }
  ++done;
}

// direct: the reference for the route phase: the same message straight to the backend's
// $default URL over keep-alive HTTP, `window` requests in flight per loop.
asio::awaitable<void> direct(net::http_client_pool& pool, std::uint16_t backend_port, steady::time_point until,
                             std::atomic<std::uint64_t>& count, std::atomic<std::size_t>& done) {
  while (steady::now() < until) {
    net::http_request r;
    r.method = "POST";
    r.origin = net::origin{net::scheme::http, "127.0.0.1", backend_port};
    r.target = "/default";
    r.body = "r: a message through the two-way route";
    auto resp = co_await pool.request(std::move(r));
    if (!resp || resp->status != 200) break;
    ++count;
  }
  ++done;
}

// poster: PostToConnection calls number `first`, `first + step`, ... below `total`, each to the
// next client in turn.
asio::awaitable<void> poster(load_state& st, net::http_client_pool& pool, std::size_t first, std::size_t step,
                             std::size_t total, std::atomic<std::size_t>& done) {
  const std::string body = "p: a message posted through @connections";
  for (std::size_t i = first; i < total; i += step) {
    const auto& c = st.clients[i % st.clients.size()];
    net::http_request r;
    r.method = "POST";
    r.origin = net::origin{net::scheme::http, "127.0.0.1", st.port};
    r.target = fmt::format("/bench/@connections/{}", c->id);
    r.body = body;
    auto resp = co_await pool.request(std::move(r));
    if (!resp || resp->status != 200) ++st.post_failures;
  }
  ++done;
}

bool wait_listening(std::uint16_t port) {
  return wait_for(
      [port] {
        asio::io_context io;
        tcp::socket s(io);
        boost::system::error_code ec;
        s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
        return !ec;
      },
      std::chrono::seconds(20));
}

double per_second(double n, steady::duration d) {
  return n / std::max(1e-9, std::chrono::duration<double>(d).count());
}

int fail(const std::string& what) {
  std::fprintf(stderr, "apigw-bench-gateway: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const auto cfg = parse_args(argc, argv);
  raise_open_files();
  if (!std::filesystem::exists(cfg.gateway))
    return fail("no gateway binary at " + cfg.gateway + " (pass gateway=PATH)");

  // The backend, forked before this process starts any thread.
  int fds[2];
  if (::pipe(fds) != 0) return fail("pipe failed");
  children kids;
  kids.backend = ::fork();
  if (kids.backend == 0) {
    ::close(fds[0]);
    run_backend(fds[1]);
  }
  ::close(fds[1]);
  std::uint16_t backend_port = 0;
  if (::read(fds[0], &backend_port, sizeof backend_port) != sizeof backend_port)
    return fail("the backend did not start");
  ::close(fds[0]);

  // The gateway, as a user runs it.
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("apigw-bench-gateway-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const auto config_path = (dir / "gateway.json").string();
  std::ofstream(config_path) << gateway_config(backend_port);
  load_state st;
  st.port = free_port();
  std::vector<std::string> args{cfg.gateway};
  if (cfg.verbose == 0) args.emplace_back("--quiet");
  const std::vector<std::string> rest{"gateway",
                                      "--port",
                                      std::to_string(st.port),
                                      "--config",
                                      config_path,
                                      "--threads",
                                      std::to_string(cfg.gateway_threads)};
  args.insert(args.end(), rest.begin(), rest.end());
  kids.gateway = spawn(args);
  if (!wait_listening(st.port)) return fail("the gateway did not start listening");

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::atomic<bool> load_done{false};
  std::thread load_thread([&] {
    io.run();
    load_done = true;
  });
  net::client_pool_options po;
  po.max_connections_per_origin = std::max<std::size_t>(cfg.post_concurrency, cfg.route_clients);
  net::http_client_pool pool(io.get_executor(), po);

  int rc = 0;
  std::string error;
  {
    // Warm-up: one client through every route, so the baseline includes the gateway's pools.
    std::atomic<std::size_t> done{0};
    asio::co_spawn(io, router(st, 1, steady::now(), done), asio::detached);
    if (!wait_for([&] { return done.load() == 1; }, std::chrono::seconds(20)) || st.replies.load() != 1)
      error = "warm-up message through the gateway failed";
    st.replies = 0;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const long rss_before = rss_kib(kids.gateway);

  // 1. Idle connections.
  std::atomic<std::size_t> next{0};
  const auto t_open = steady::now();
  for (std::size_t i = 0; error.empty() && i < 128; ++i)
    asio::co_spawn(io, opener(st, next, cfg.conns), asio::detached);
  if (error.empty() &&
      !wait_for([&] { return st.opened.load() + st.failed.load() >= cfg.conns; }, std::chrono::seconds(300)))
    error = "connections did not open in time";
  const auto open_time = steady::now() - t_open;
  if (error.empty() && st.failed.load() > 0) error = fmt::format("{} connections failed to open", st.failed.load());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long rss_idle = rss_kib(kids.gateway);
  const double kib_per_conn = static_cast<double>(rss_idle - rss_before) / static_cast<double>(cfg.conns);
  if (cfg.hold > 0) {
    std::printf("holding %zu idle connections for %zu s; the gateway is pid %d\n", st.opened.load(), cfg.hold,
                static_cast<int>(kids.gateway));
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(cfg.hold));
  }

  // Each client learns its id (one message each way), then the memory is read again.
  if (error.empty()) {
    asio::post(io, [&] {
      for (const auto& c : st.clients) asio::co_spawn(io, whoami(c), asio::detached);
    });
    if (!wait_for([&] { return st.ids_known.load() >= cfg.conns; }, std::chrono::seconds(120)))
      error = "not every client learned its connection id";
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long rss_used = rss_kib(kids.gateway);
  const double kib_per_used_conn = static_cast<double>(rss_used - rss_before) / static_cast<double>(cfg.conns);

  // 2. The two-way route and the same load straight to the backend, in alternating slices
  //    (`rounds` of each, `seconds` in all per side), so that a change in the machine's load hits
  //    both sides alike. The CPU time of all three processes is read around every slice: the
  //    gateway's per message is the figure that noise moves least, and the others' give the
  //    gateway's allowance for a route share of 0.5 (see route_costs).
  double route_per_s = 0;
  double direct_per_s = 0;
  route_costs costs;
  if (error.empty()) {
    const auto slice =
        std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(cfg.seconds) / cfg.rounds);
    std::uint64_t replies = 0;
    std::uint64_t direct_count = 0;
    steady::duration route_time{};
    steady::duration direct_time{};
    cpu_sample route_cpu;
    cpu_sample direct_cpu;
    for (std::size_t round = 0; error.empty() && round < cfg.rounds; ++round) {
      std::atomic<std::size_t> done{0};
      st.replies = 0;
      const auto cpu0 = cpu_sample::of(kids.gateway, kids.backend);
      const auto t0 = steady::now();
      for (std::size_t i = 0; i < cfg.route_clients; ++i)
        asio::co_spawn(io, router(st, cfg.window, t0 + slice, done), asio::detached);
      if (!wait_for([&] { return done.load() == cfg.route_clients; }, std::chrono::seconds(cfg.seconds + 60)))
        error = "the route phase did not finish";
      route_time += steady::now() - t0;
      route_cpu += cpu_sample::of(kids.gateway, kids.backend) - cpu0;
      replies += st.replies.load();

      std::atomic<std::size_t> ddone{0};
      std::atomic<std::uint64_t> dcount{0};
      const auto dcpu0 = cpu_sample::of(kids.gateway, kids.backend);
      const auto d0 = steady::now();
      const std::size_t loops = cfg.route_clients * cfg.window;
      for (std::size_t i = 0; i < loops; ++i)
        asio::co_spawn(io, direct(pool, backend_port, d0 + slice, dcount, ddone), asio::detached);
      wait_for([&] { return ddone.load() == loops; }, std::chrono::seconds(cfg.seconds + 60));
      direct_time += steady::now() - d0;
      direct_cpu += cpu_sample::of(kids.gateway, kids.backend) - dcpu0;
      direct_count += dcount.load();
    }
    route_per_s = per_second(static_cast<double>(replies), route_time);
    direct_per_s = per_second(static_cast<double>(direct_count), direct_time);
    costs = route_costs::of(route_cpu, replies, route_time, direct_cpu, direct_count, direct_time);
  }

  // 3. @connections posts, until every posted frame arrived.
  double post_per_s = 0;
  if (error.empty()) {
    std::atomic<std::size_t> done{0};
    const auto t0 = steady::now();
    for (std::size_t i = 0; i < cfg.post_concurrency; ++i)
      asio::co_spawn(io, poster(st, pool, i, cfg.post_concurrency, cfg.posts, done), asio::detached);
    const bool all = wait_for(
        [&] {
          return done.load() == cfg.post_concurrency && st.posts_received.load() + st.post_failures.load() >= cfg.posts;
        },
        std::chrono::seconds(300));
    post_per_s = per_second(static_cast<double>(st.posts_received.load()), steady::now() - t0);
    if (!all || st.post_failures.load() > 0)
      error =
          fmt::format("{} of {} posts failed or were not delivered", cfg.posts - st.posts_received.load(), cfg.posts);
  }

  const double route_share = direct_per_s > 0 ? route_per_s / direct_per_s : 0.0;
  std::printf("gateway: %zu connections opened in %.2f s (%.0f/s), each through $connect\n", st.opened.load(),
              std::chrono::duration<double>(open_time).count(),
              per_second(static_cast<double>(st.opened.load()), open_time));
  std::printf(
      "gateway RSS: %ld KiB before, %ld KiB with %zu idle connections (%.2f KiB each), %ld KiB after one "
      "message each way (%.2f KiB each)\n",
      rss_before, rss_idle, cfg.conns, kib_per_conn, rss_used, kib_per_used_conn);
  std::printf(
      "two-way route: %.0f msg/s through the gateway vs %.0f req/s straight to the backend (%.2f of it), "
      "%zu clients x %zu in flight, %zu alternating rounds; the gateway spent %.1f us of CPU per message\n",
      route_per_s, direct_per_s, route_share, cfg.route_clients, cfg.window, cfg.rounds, costs.gw_us);
  std::printf(
      "CPU per message: route: gateway %.1f us (%.1f in the kernel), load client and backend %.1f us, %.2f "
      "cores busy; direct: all three %.1f us (the backend %.1f), %.2f cores busy; a route share of "
      "0.5 would leave the gateway %.1f us per message\n",
      costs.gw_us, costs.gw_sys_us, costs.others_us, costs.busy_route, costs.direct_us, costs.backend_direct_us,
      costs.busy_direct, costs.gw_us_for_half);
  std::printf("@connections: %.0f posts/s delivered (%llu of %zu), %zu concurrent callers\n", post_per_s,
              static_cast<unsigned long long>(st.posts_received.load()), cfg.posts, cfg.post_concurrency);
  if (!error.empty()) {
    std::fprintf(stderr, "apigw-bench-gateway: %s\n", error.c_str());
    rc = 1;
  }
  std::printf(
      "RESULT gateway conns=%zu kib_per_conn=%.2f route_msgs_per_s=%.0f direct_req_per_s=%.0f route_share=%.3f "
      "gw_cpu_us_per_msg=%.1f post_per_s=%.0f gw_sys_us_per_msg=%.1f others_us_per_msg=%.1f direct_us_per_req=%.1f "
      "gw_us_for_half=%.1f\n",
      st.opened.load(), kib_per_conn, route_per_s, direct_per_s, route_share, costs.gw_us, post_per_s, costs.gw_sys_us,
      costs.others_us, costs.direct_us, costs.gw_us_for_half);
  std::fflush(stdout);

  // Stop the gateway first (it sends every $disconnect, and the clients' reads end), then let the
  // load thread run out of work, and release the clients while their io_context still exists.
  pool.close();
  kids.stop();
  work.reset();
  if (!wait_for([&] { return load_done.load(); }, std::chrono::seconds(10))) io.stop();
  load_thread.join();
  st.clients.clear();
  std::filesystem::remove_all(dir);
  return rc;
}
