// apigw-bench-fanout: one message to N connections through the @connections API, measured three
// ways in one run against a local endpoint that answers 200 after a fixed delay standing in for
// the network (a timer, so the server's thread is never blocked):
//   1. our sender: concurrent, pooled keep-alive connections, SigV4-signed;
//   2. the reference system's method: one signed request at a time over one kept-alive connection
//      (measured on a subset; the rate is per second, so the subset does not bias it);
//   3. our sender again with zero delay: raw efficiency of the client and pool.
// The last line is machine-readable:
//   RESULT fanout n=<N> latency_ms=<d> concurrent_per_s=<x> sequential_per_s=<y> ratio=<x/y> zero_latency_per_s=<z>
//
// By default the N recipients are sessions in one channel of a SQLite store (a temp file): the
// sender reads them page by page through dispatch::store_recipients, as `apigw-ws send --channel`
// and `app.sessions().in_channel(...)` do, so the measurement includes the store's paging.
// `--source memory` hands the sender an in-memory list instead, to isolate the sender.
#include "apigw/core/ids.hpp"
#include "apigw/dispatch/delivery.hpp"
#include "apigw/dispatch/sender_delivery.hpp"
#include "apigw/mgmt/management_client.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/net/http_server.hpp"
#include "apigw/store/session_store.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using namespace apigw;
using steady = std::chrono::steady_clock;

struct bench_config {
  std::size_t n = 10000;
  std::size_t latency_ms = 2;
  std::size_t sequential_n = 500;
  std::size_t in_flight = 128;
  std::size_t sign = 1;  // 1: SigV4-sign every request, as against AWS; 0: unsigned, as against the local gateway
  std::string source = "store";  // store: sessions of one channel in SQLite; memory: a vector
};

// recipient_factory: the N recipients of one run, all on `endpoint`.
using recipient_factory = std::function<std::vector<mgmt::recipient>(std::size_t n, const std::string& endpoint)>;

std::vector<mgmt::recipient> synthetic_recipients(std::size_t n, const std::string& endpoint) {
  std::vector<mgmt::recipient> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back({new_connection_id().value(), endpoint});
  return out;
}

// local_endpoint: an in-process @connections stand-in on its own io_context thread.
class local_endpoint {
 public:
  local_endpoint() {
    server_ = std::make_unique<net::http_server>(
        io_.get_executor(), [this](net::incoming_request) -> asio::awaitable<std::optional<net::http_response>> {
          const auto d = delay_ms_.load();
          if (d > 0) {
            asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(d));
            co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
          }
          served_.fetch_add(1, std::memory_order_relaxed);
          co_return net::http_response{200, {{"x-amzn-RequestId", "bench"}}, {}};
        });
    if (auto r = server_->start(); !r) {
      std::fprintf(stderr, "cannot start the local endpoint: %s\n", r.error().message.c_str());
      std::exit(2);
    }
    thread_ = std::thread([this] { io_.run(); });
  }
  ~local_endpoint() {
    server_->stop();
    io_.stop();
    thread_.join();
  }
  void set_delay_ms(std::size_t ms) { delay_ms_.store(ms); }
  std::string endpoint() const { return fmt::format("http://127.0.0.1:{}/bench", server_->port()); }

 private:
  asio::io_context io_{1};
  std::unique_ptr<net::http_server> server_;
  std::thread thread_;
  std::atomic<std::size_t> delay_ms_{0};
  std::atomic<std::size_t> served_{0};
};

mgmt::signing_config bench_signing(const bench_config& cfg) {
  mgmt::signing_config s;
  if (cfg.sign == 0) return s;
  s.credentials = sigv4::credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  s.region = "us-east-1";
  return s;
}

const std::string k_message =
    R"({"type":"toast","level":"success","title":"Saved","message":"Your changes have been saved."})";

// session_channel: a temporary SQLite store holding the recipients as connected sessions of the
// channel "bench", owned by a gateway whose Management endpoint is the local endpoint.
class session_channel {
 public:
  explicit session_channel(const std::vector<mgmt::recipient>& recipients) {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("apigw-bench-fanout-{}", ::getpid());
    std::filesystem::create_directories(dir_);
    auto st = store::open_store((dir_ / "bench.sqlite3").string(), system_clock_source::instance());
    if (!st || !(*st)->migrate()) fail("cannot create the SQLite store");
    store_ = std::move(*st);
    store::gateway g;
    g.name = "bench";
    g.endpoint = recipients.front().endpoint;
    auto gw = store_->upsert_gateway(g);
    if (!gw) fail(gw.error().message);
    const std::string channel[] = {"bench"};
    for (const auto& r : recipients) {
      if (auto s = store_->create_session(r.connection_id, std::nullopt, gw->id, channel); !s) fail(s.error().message);
    }
  }
  ~session_channel() {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  store::session_store& store() { return *store_; }

 private:
  [[noreturn]] static void fail(const std::string& why) {
    std::fprintf(stderr, "store: %s\n", why.c_str());
    std::exit(1);
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::session_store> store_;
};

// concurrent_rate: deliveries per second of one send through our sender, to the sessions of the
// channel (or, without a store, to the in-memory list).
double concurrent_rate(const bench_config& cfg, const std::vector<mgmt::recipient>& recipients,
                       session_channel* sessions, const char* label) {
  mgmt::sender_options opts;
  opts.max_in_flight = cfg.in_flight;
  opts.pool.max_connections_per_origin = cfg.in_flight;
  opts.signing = mgmt::same_signing_for_all(bench_signing(cfg));
  mgmt::sender s(opts);
  result<mgmt::delivery_report> report;
  if (sessions != nullptr) {
    dispatch::store_recipients source(sessions->store(), store::session_query{}.in_channel("bench"));
    dispatch::store_gone_sink gone(sessions->store());
    report = s.send_sync(source, k_message, &gone);
  } else {
    report = s.send_sync(recipients, k_message);
  }
  if (!report) {
    std::fprintf(stderr, "%s: send failed: %s\n", label, report.error().message.c_str());
    std::exit(1);
  }
  const double seconds = std::chrono::duration<double>(report->elapsed).count();
  const double rate = static_cast<double>(report->delivered) / seconds;
  std::printf("%-34s %6zu delivered, %zu failed, %zu retries in %.3f s = %.0f/s (connections %llu)\n", label,
              report->delivered, report->failed.size(), report->retries, seconds, rate,
              static_cast<unsigned long long>(s.pool().stats().connections_opened));
  if (!report->failed.empty()) {
    std::fprintf(stderr, "%s: first failure: %s\n", label, report->failed.front().reason.message.c_str());
  }
  return rate;
}

// sequential_rate: the reference system's loop: one signed PostToConnection at a time, over one
// kept-alive connection.
double sequential_rate(const bench_config& cfg, const std::vector<mgmt::recipient>& recipients) {
  asio::io_context io{1};
  net::client_pool_options popts;
  popts.max_connections_per_origin = 1;
  net::http_client_pool pool(io.get_executor(), popts);
  mgmt::management_client::options copts;
  copts.signing = bench_signing(cfg);
  auto client = mgmt::management_client::create(pool, recipients.front().endpoint, copts);
  if (!client) {
    std::fprintf(stderr, "sequential: %s\n", client.error().message.c_str());
    std::exit(1);
  }
  const std::size_t count = std::min(cfg.sequential_n, recipients.size());
  auto loop = [&]() -> asio::awaitable<std::size_t> {
    std::size_t ok = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (co_await client->post_to_connection(recipients[i].connection_id, k_message)) ++ok;
    }
    co_return ok;
  };
  const auto start = steady::now();
  auto done = asio::co_spawn(io, loop(), asio::use_future);
  io.run();
  const std::size_t ok = done.get();
  const double seconds = std::chrono::duration<double>(steady::now() - start).count();
  const double rate = static_cast<double>(ok) / seconds;
  std::printf("%-34s %6zu delivered in %.3f s = %.0f/s (connections %llu)\n", "sequential (reference method):", ok,
              seconds, rate, static_cast<unsigned long long>(pool.stats().connections_opened));
  return rate;
}

bool parse_flag(std::string_view arg, std::string_view name, std::size_t& out) {
  if (arg.substr(0, name.size()) != name || arg.size() <= name.size() || arg[name.size()] != '=') return false;
  const auto value = arg.substr(name.size() + 1);
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc{} || end != value.data() + value.size()) {
    std::fprintf(stderr, "bad value for %.*s\n", static_cast<int>(name.size()), name.data());
    std::exit(2);
  }
  return true;
}

bool parse_source(std::string_view arg, std::string& out) {
  constexpr std::string_view name = "--source=";
  if (arg.substr(0, name.size()) != name) return false;
  const auto value = arg.substr(name.size());
  if (value != "store" && value != "memory") {
    std::fprintf(stderr, "--source must be store or memory\n");
    std::exit(2);
  }
  out = std::string(value);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bench_config cfg;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.find('=') == std::string::npos && i + 1 < argc && arg.rfind("--", 0) == 0)
      arg += std::string("=") + argv[++i];
    if (!parse_flag(arg, "--n", cfg.n) && !parse_flag(arg, "--latency-ms", cfg.latency_ms) &&
        !parse_flag(arg, "--sequential-n", cfg.sequential_n) && !parse_flag(arg, "--in-flight", cfg.in_flight) &&
        !parse_flag(arg, "--sign", cfg.sign) && !parse_source(arg, cfg.source)) {
      std::fprintf(stderr,
                   "usage: %s [--n N] [--latency-ms D] [--sequential-n M] [--in-flight K] [--sign 0|1] "
                   "[--source store|memory]\n",
                   argv[0]);
      return 2;
    }
  }
  if (cfg.n == 0 || cfg.in_flight == 0 || cfg.sequential_n == 0) {
    std::fprintf(stderr, "--n, --in-flight and --sequential-n must be positive\n");
    return 2;
  }
  const recipient_factory make_recipients = synthetic_recipients;

  local_endpoint server;
  const auto recipients = make_recipients(cfg.n, server.endpoint());
  std::unique_ptr<session_channel> sessions;
  if (cfg.source == "store") sessions = std::make_unique<session_channel>(recipients);
  std::printf(
      "fan-out of one %zu-byte message to %zu recipients (%s), %zu ms simulated network delay, %zu in flight, "
      "%u hardware threads\n",
      k_message.size(), cfg.n, sessions ? "sessions of one channel in SQLite" : "in-memory list", cfg.latency_ms,
      cfg.in_flight, std::thread::hardware_concurrency());

  server.set_delay_ms(cfg.latency_ms);
  const double concurrent = concurrent_rate(cfg, recipients, sessions.get(), "concurrent (apigw sender):");
  const double sequential = sequential_rate(cfg, recipients);
  server.set_delay_ms(0);
  const double zero = concurrent_rate(cfg, recipients, sessions.get(), "concurrent, zero delay:");

  std::printf(
      "RESULT fanout n=%zu latency_ms=%zu concurrent_per_s=%.0f sequential_per_s=%.0f ratio=%.1f "
      "zero_latency_per_s=%.0f\n",
      cfg.n, cfg.latency_ms, concurrent, sequential, concurrent / sequential, zero);
  return 0;
}
