// apigw-bench-dispatch: backend dispatch throughput and latency. Integration requests, built
// exactly as API Gateway sends them, go over keep-alive HTTP connections to the embedded backend
// server; each runs every check, loads its session from SQLite (one UPDATE ... RETURNING), and its
// handler replies through the fan-out sender to a local @connections endpoint.
//
// Every measurement runs twice on the same server, side by side: against the dispatch view, and
// against a reference that touches neither the store nor the sender (by default an application
// HTTP route on the same server answering "{}"; `reference=view` uses a view whose handler does
// nothing, which still costs the backend's session UPDATE). Phases:
//
// - closed loop (both modes): `requests` requests, `concurrency` connections each sending its next
//   request when the previous one is answered. The dispatch rate counts until every reply was
//   delivered; the framework's share is the dispatch rate over the reference rate.
// - open loop (mode=open): requests are scheduled at fixed intervals (`rate` per second, for
//   `seconds`) whatever the answers do, and each latency is measured from the request's SCHEDULED
//   send time, so a request that waited for a free connection counts its wait (no coordinated
//   omission). A send that starts more than 1 ms after its scheduled time is counted as late.
//
// Options (KEY=VALUE arguments): mode=open|closed rate=5000 seconds=3 requests=20000
// connections=1000 (sessions) concurrency=64 workers=2 io_threads=1 reference=route|view.
// The last line is machine-readable:
//   RESULT dispatch mode=open rate=<r> p99_ms=<x> ref_p99_ms=<y> req_per_s=<closed> ref_req_per_s=<closed>
//          share=<closed ratio> p50_ms= p999_ms= max_ms= ref_max_ms= late= ref_late= achieved_per_s=
//   RESULT dispatch mode=closed req_per_s=<x> p50_ms=<y> p99_ms=<z> ref_req_per_s=<r> share=<s>
#include "key_values.hpp"

#include "apigw/dispatch/backend.hpp"
#include "apigw/dispatch/sender_delivery.hpp"
#include "apigw/dispatch/testing.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/net/http_server.hpp"
#include "apigw/server/server.hpp"
#include "apigw/store/session_store.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
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

constexpr auto late_after = std::chrono::milliseconds{1};
constexpr const char* usage =
    "apigw-bench-dispatch [mode=open|closed] [rate=N] [seconds=N] [requests=N] [connections=N] "
    "[concurrency=N] [workers=N] [io_threads=N] [reference=route|view]";

struct bench_config {
  std::string mode = "open";
  std::size_t rate = 5000;  // open loop: requests per second offered
  std::size_t seconds = 3;  // open loop: duration of each phase
  std::size_t requests = 20000;
  std::size_t connections = 1000;
  std::size_t concurrency = 64;
  std::size_t workers = 2;  // one per core of the 2-core machine the budget is set on
  std::size_t io_threads = 1;
  std::string reference = "route";
};

bench_config parse_args(int argc, char** argv) {
  bench_config c;
  bench::key_values keys;
  keys.counts = {{"rate", &c.rate},
                 {"seconds", &c.seconds},
                 {"requests", &c.requests},
                 {"connections", &c.connections},
                 {"concurrency", &c.concurrency},
                 {"workers", &c.workers},
                 {"io_threads", &c.io_threads}};
  keys.texts = {{"mode", &c.mode}, {"reference", &c.reference}};
  bench::parse_key_values(argc, argv, keys, usage);
  if ((c.mode != "open" && c.mode != "closed") || (c.reference != "route" && c.reference != "view")) {
    std::fprintf(stderr, "usage: %s\n", usage);
    std::exit(2);
  }
  return c;
}

std::string cid(std::size_t n) {
  return fmt::format("b{:014d}=", n);
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

// noop_view: the reference for reference=view: the handler touches neither the store nor the
// sender (the backend still loads the session before calling it).
class noop_view : public view {
 public:
  noop_view() {
    handle("echo", [](request_context&) { return response::ok(); });
  }
};

// build_requests: one ready-to-send message request per session, POSTed to `target`.
std::vector<net::http_request> build_requests(const dispatch::fake_gateway& gw, std::uint16_t port,
                                              std::size_t sessions, const std::string& target) {
  std::vector<net::http_request> out;
  out.reserve(sessions);
  for (std::size_t i = 0; i < sessions; ++i) {
    auto req = gw.message_request(cid(i), R"({"handler":"echo","text":"hello"})");
    net::http_request r;
    r.method = "POST";
    r.origin = net::origin{net::scheme::http, "127.0.0.1", port};
    r.target = target;
    for (auto& h : req.headers) {
      if (h.name != "Content-Length") r.headers.push_back({h.name, h.value});
    }
    r.body = std::move(req.body);
    out.push_back(std::move(r));
  }
  return out;
}

// phase: one measured run. The client io_context is run by one thread, so the loops share it
// without locks.
struct phase {
  const std::vector<net::http_request>* requests = nullptr;
  std::size_t total = 0;
  std::size_t next = 0;  // the next request to claim
  bool open = false;
  double rate = 0;                // open loop: requests per second
  steady::time_point start;       // open loop: request k is scheduled at start + k / rate
  steady::time_point give_up;     // open loop: no send starts after this
  std::vector<double> latencies;  // ms
  std::size_t failures = 0;
  std::size_t late = 0;    // open loop: sends that started more than late_after behind schedule
  std::size_t unsent = 0;  // open loop: requests still unsent at give_up
  steady::time_point last_answer;
};

steady::time_point scheduled_at(const phase& p, std::size_t k) {
  const auto offset = std::chrono::duration<double>(static_cast<double>(k) / p.rate);
  return p.start + std::chrono::duration_cast<steady::duration>(offset);
}

double ms_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// send_loop: one keep-alive connection's worth of load: claims the next request, waits for its
// scheduled time (open loop) or sends it at once (closed loop), and records the latency from the
// scheduled time (open) or the send (closed) to the answer.
asio::awaitable<void> send_loop(net::http_client_pool& pool, phase& p) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (p.next < p.total) {
    const std::size_t k = p.next++;
    auto from = steady::now();
    if (p.open) {
      from = scheduled_at(p, k);
      if (steady::now() < from) {
        timer.expires_at(from);
        auto wait = timer.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)co_await std::move(wait);
      }
      const auto now = steady::now();
      if (now > p.give_up) {
        p.unsent += p.total - k;
        p.next = p.total;
        break;
      }
      if (now - from > late_after) ++p.late;
    }
    auto req = (*p.requests)[k % p.requests->size()];
    auto sent = pool.request(std::move(req));
    auto answer = co_await std::move(sent);
    p.last_answer = steady::now();
    p.latencies.push_back(ms_between(from, p.last_answer));
    if (!answer || answer->status != 200) ++p.failures;
  }
}

// run: `loops` send loops over the phase; returns when every one ended.
void run(asio::io_context& io, net::http_client_pool& pool, phase& p, std::size_t loops) {
  p.latencies.reserve(p.total);
  for (std::size_t l = 0; l < loops; ++l) asio::co_spawn(io, send_loop(pool, p), asio::detached);
  io.run();
  io.restart();
}

struct summary {
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
};

summary summarize(std::vector<double> v) {
  summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const auto at = [&](double q) { return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))]; };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  s.max = v.back();
  return s;
}

// waits until `delivered` reaches `target` (every echo reply reached @connections), at most 30 s;
// returns whether it did.
bool wait_delivered(const std::atomic<std::size_t>& delivered, std::size_t target) {
  const auto deadline = steady::now() + std::chrono::seconds{30};
  while (delivered.load() < target && steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  return delivered.load() >= target;
}

// closed_result / open_result: what one phase measured.
struct closed_result {
  double per_s = 0;
  summary lat;
  std::size_t failures = 0;
  double answered_s = 0;   // until the last answer
  double delivered_s = 0;  // until the last reply was delivered (dispatch only)
  bool all_delivered = true;
};

struct open_result {
  double achieved_per_s = 0;
  summary lat;
  std::size_t sent = 0, failures = 0, late = 0, unsent = 0;
  bool all_delivered = true;
};

// the load generator and its targets.
struct client {
  asio::io_context io;
  net::http_client_pool pool;
  std::size_t concurrency;
  const std::atomic<std::size_t>& delivered;

  client(std::size_t c, const std::atomic<std::size_t>& d)
      : pool(io.get_executor(), pool_options(c)), concurrency(c), delivered(d) {}

  static net::client_pool_options pool_options(std::size_t c) {
    net::client_pool_options o;
    o.max_connections_per_origin = c;
    return o;
  }

  // closed: `total` requests, `concurrency` at a time. `replies` says whether each answer also
  // sends a reply through the sender, counted in `delivered`.
  closed_result closed(const std::vector<net::http_request>& reqs, std::size_t total, bool replies) {
    phase p;
    p.requests = &reqs;
    p.total = total;
    const auto before = delivered.load();
    const auto t0 = steady::now();
    run(io, pool, p, concurrency);
    const auto answered = steady::now();
    closed_result r;
    if (replies) r.all_delivered = wait_delivered(delivered, before + total - p.failures);
    const auto t1 = replies ? steady::now() : answered;
    r.answered_s = std::chrono::duration<double>(answered - t0).count();
    r.delivered_s = std::chrono::duration<double>(t1 - t0).count();
    r.per_s = static_cast<double>(total) / r.delivered_s;
    r.lat = summarize(std::move(p.latencies));
    r.failures = p.failures;
    return r;
  }

  // open: `rate` per second for `seconds`, from the scheduled times.
  open_result open(const std::vector<net::http_request>& reqs, std::size_t rate, std::size_t seconds, bool replies) {
    phase p;
    p.requests = &reqs;
    p.total = rate * seconds;
    p.open = true;
    p.rate = static_cast<double>(rate);
    const auto before = delivered.load();
    // A little lead so every loop is waiting on its timer before the first send is due.
    p.start = steady::now() + std::chrono::milliseconds{20};
    p.give_up = p.start + std::chrono::seconds{seconds} + std::chrono::seconds{30};
    run(io, pool, p, concurrency);
    open_result r;
    r.sent = p.total - p.unsent;
    if (replies) r.all_delivered = wait_delivered(delivered, before + r.sent - p.failures);
    const double secs = std::chrono::duration<double>(p.last_answer - p.start).count();
    r.achieved_per_s = secs > 0 ? static_cast<double>(r.sent) / secs : 0;
    r.lat = summarize(std::move(p.latencies));
    r.failures = p.failures;
    r.late = p.late;
    r.unsent = p.unsent;
    return r;
  }

  // warm: connections, statement cache, page cache.
  void warm(const std::vector<net::http_request>& reqs, bool replies) {
    (void)closed(reqs, std::max<std::size_t>(200, 4 * concurrency), replies);
  }
};

void print_closed(const char* name, const closed_result& r) {
  std::printf("  %-9s %7.0f req/s  p50 %7.3f ms  p99 %7.3f ms  max %8.3f ms  failures %zu", name, r.per_s, r.lat.p50,
              r.lat.p99, r.lat.max, r.failures);
  if (r.delivered_s != r.answered_s)
    std::printf("  (answered in %.3f s, every reply delivered after %.3f s%s)", r.answered_s, r.delivered_s,
                r.all_delivered ? "" : ", NOT ALL DELIVERED");
  std::printf("\n");
}

void print_open(const char* name, const open_result& r, std::size_t total) {
  std::printf(
      "  %-9s achieved %7.0f req/s  p50 %7.3f  p99 %7.3f  p999 %7.3f  max %8.3f ms  late %zu of %zu  failures %zu  "
      "unsent %zu%s\n",
      name, r.achieved_per_s, r.lat.p50, r.lat.p99, r.lat.p999, r.lat.max, r.late, total, r.failures, r.unsent,
      r.all_delivered ? "" : "  NOT ALL REPLIES DELIVERED");
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
    // Warnings only: the reference route has no access log, so an info line per request (a stderr
    // write) would be counted against dispatch alone.
    o.log = logging::logger::standard_error(logging::level::warn);
    dispatch::backend app(db, out, auth, system_clock_source::instance(), o);
    echo_view v;
    noop_view noop;
    // The reference route runs on the server's blocking pool: as many threads as the backend has
    // workers, so both sides get the same hop and the same parallelism.
    server::backend_server http(app, {.io_threads = cfg.io_threads, .blocking_threads = cfg.workers});
    http.mount("/ws/", v);
    if (cfg.reference == "view") {
      http.mount("/ref/", noop);
    } else {
      http.route("/ref/", [](const dispatch::request&) { return dispatch::response::ok(); });
    }
    if (auto s = http.start(); !s) {
      std::fprintf(stderr, "cannot start the backend server: %s\n", s.error().message.c_str());
      return 1;
    }
    dispatch::fake_gateway gw(app, v, {.host = "127.0.0.1"});
    const auto dispatch_reqs = build_requests(gw, http.port(), cfg.connections, "/ws/default");
    const auto ref_reqs = build_requests(gw, http.port(), cfg.connections, "/ref/default");

    client load(cfg.concurrency, delivered);
    load.warm(dispatch_reqs, true);
    load.warm(ref_reqs, false);

    std::printf(
        "dispatch: %zu sessions, %zu workers, %zu io threads, %zu keep-alive connections; reference: %s on the same "
        "server\n",
        cfg.connections, cfg.workers, cfg.io_threads, cfg.concurrency,
        cfg.reference == "view" ? "a view whose handler does nothing (the backend still loads the session)"
                                : "an HTTP route answering {} (no store, no sender)");
    std::printf("closed loop, %zu requests each (the dispatch rate counts until every reply was delivered):\n",
                cfg.requests);
    std::fflush(stdout);
    const auto closed = load.closed(dispatch_reqs, cfg.requests, true);
    print_closed("dispatch", closed);
    std::fflush(stdout);
    const auto ref_closed = load.closed(ref_reqs, cfg.requests, false);
    print_closed("reference", ref_closed);
    const double share = ref_closed.per_s > 0 ? closed.per_s / ref_closed.per_s : 0;
    std::printf("  framework's share of the reference rate: %.3f\n", share);
    if (closed.failures != 0 || ref_closed.failures != 0 || !closed.all_delivered) rc = 1;

    if (cfg.mode == "open") {
      std::printf(
          "open loop, %zu req/s offered for %zu s each (latency from each request's scheduled send time; late: sent "
          "more than %lld ms after it):\n",
          cfg.rate, cfg.seconds, static_cast<long long>(late_after.count()));
      std::fflush(stdout);
      const auto total = cfg.rate * cfg.seconds;
      const auto opened = load.open(dispatch_reqs, cfg.rate, cfg.seconds, true);
      print_open("dispatch", opened, total);
      std::fflush(stdout);
      const auto ref_open = load.open(ref_reqs, cfg.rate, cfg.seconds, false);
      print_open("reference", ref_open, total);
      std::printf("  p99 %.3f ms vs %.3f ms for the reference (budget: p99 < 5 ms at 5000 req/s offered)\n",
                  opened.lat.p99, ref_open.lat.p99);
      if (opened.failures != 0 || ref_open.failures != 0 || opened.unsent != 0 || ref_open.unsent != 0 ||
          !opened.all_delivered)
        rc = 1;
      http.shutdown();
      app.stop();
      std::printf(
          "RESULT dispatch mode=open rate=%zu p99_ms=%.3f ref_p99_ms=%.3f req_per_s=%.0f ref_req_per_s=%.0f "
          "share=%.3f p50_ms=%.3f p999_ms=%.3f max_ms=%.3f ref_max_ms=%.3f late=%zu ref_late=%zu achieved_per_s=%.0f\n",
          cfg.rate, opened.lat.p99, ref_open.lat.p99, closed.per_s, ref_closed.per_s, share, opened.lat.p50,
          opened.lat.p999, opened.lat.max, ref_open.lat.max, opened.late, ref_open.late, opened.achieved_per_s);
    } else {
      http.shutdown();
      app.stop();
      std::printf("RESULT dispatch mode=closed req_per_s=%.0f p50_ms=%.3f p99_ms=%.3f ref_req_per_s=%.0f share=%.3f\n",
                  closed.per_s, closed.lat.p50, closed.lat.p99, ref_closed.per_s, share);
    }
  }
  connections.stop();
  mgmt_io.stop();
  mgmt_thread.join();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return rc;
}
