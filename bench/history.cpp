// apigw-bench-history: channel history measured side by side in one run, against a local
// @connections stand-in that answers 200 after a fixed delay (a timer; the network stand-in):
//   1. one message to N sessions of a channel: publish (append to the history, then fan out with
//      the envelope) against plain send_message, alternating, best of three each; budget: publish
//      keeps at least 0.8 of send_message's deliveries per second;
//   2. recovery: C clients each missed M messages of a channel and ask apigw.recover at once (the
//      built-in handler, through the backend's full request pipeline); latency per client from the
//      request to its end marker sent: p50 and p99;
//   3. publish rate to many small channels (K channels of two sessions each, T publishing threads,
//      each waiting for its delivery report), against send_message to the same channels.
// The store is SQLite in a temp dir. Options (KEY=VALUE arguments, bench/key_values.hpp): n=10000
// latency_ms clients missed channels publishes threads. The last line is machine-readable:
//   RESULT history n=<N> publish_per_s=<x> send_per_s=<y> publish_share=<x/y> recover_clients=<C>
//     recover_missed=<M> recover_p50_ms=<a> recover_p99_ms=<b> small_channels=<K> small_publish_per_s=<p>
//     small_send_per_s=<s>
#include "key_values.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/dispatch/backend.hpp"
#include "apigw/dispatch/history.hpp"
#include "apigw/dispatch/sender_delivery.hpp"
#include "apigw/dispatch/testing.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/net/http_server.hpp"
#include "apigw/store/session_store.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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
  std::size_t clients = 100;
  std::size_t missed = 1000;
  std::size_t channels = 1000;
  std::size_t publishes = 4000;
  std::size_t threads = 8;
};

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "apigw-bench-history: %s\n", why.c_str());
  std::exit(1);
}

// local_endpoint: an in-process @connections stand-in on its own io_context thread.
class local_endpoint {
 public:
  explicit local_endpoint(std::size_t delay_ms) : delay_ms_(delay_ms) {
    server_ = std::make_unique<net::http_server>(
        io_.get_executor(), [this](net::incoming_request) -> asio::awaitable<std::optional<net::http_response>> {
          if (delay_ms_ > 0) {
            asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(delay_ms_));
            co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
          }
          co_return net::http_response{200, {{"x-amzn-RequestId", "bench"}}, {}};
        });
    if (auto r = server_->start(); !r) fail("cannot start the local endpoint: " + r.error().message);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~local_endpoint() {
    server_->stop();
    io_.stop();
    thread_.join();
  }
  std::string endpoint() const { return fmt::format("http://127.0.0.1:{}/bench", server_->port()); }

 private:
  asio::io_context io_{1};
  std::unique_ptr<net::http_server> server_;
  std::thread thread_;
  std::size_t delay_ms_;
};

const json::object k_message{
    {"type", "toast"}, {"level", "success"}, {"title", "Saved"}, {"message", "Your changes have been saved."}};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  bench_config cfg;
  bench::key_values keys;
  keys.counts = {{"n", &cfg.n},
                 {"latency_ms", &cfg.latency_ms},
                 {"clients", &cfg.clients},
                 {"missed", &cfg.missed},
                 {"channels", &cfg.channels},
                 {"publishes", &cfg.publishes},
                 {"threads", &cfg.threads}};
  bench::parse_key_values(argc, argv, keys,
                          "apigw-bench-history [n=N] [latency_ms=D] [clients=C] [missed=M] [channels=K] "
                          "[publishes=P] [threads=T]");

  local_endpoint server(cfg.latency_ms);
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("apigw-bench-history-{}", ::getpid());
  std::filesystem::create_directories(dir);
  auto& clk = system_clock_source::instance();
  auto opened = store::open_store((dir / "bench.sqlite3").string(), clk);
  if (!opened || !(*opened)->migrate()) fail("cannot create the SQLite store");
  auto& st = **opened;
  store::gateway g;
  g.name = "bench";
  g.api_id = "abc123defg";
  g.endpoint = server.endpoint();
  auto gw = st.upsert_gateway(g);
  if (!gw) fail(gw.error().message);

  mgmt::sender_options sopts;
  sopts.max_in_flight = 128;
  sopts.pool.max_connections_per_origin = 128;
  mgmt::sender sender(sopts);
  dispatch::sender_delivery delivery(sender, st);
  dispatch::history_options hopts;
  hopts.rules = {{"*", {.max_messages = 2000}}};
  dispatch::channel_history history(st, clk, hopts);
  std::printf("history benchmark: SQLite store, %zu ms simulated network delay, %u hardware threads\n", cfg.latency_ms,
              std::thread::hardware_concurrency());

  // 1. One message to N sessions of one channel.
  {
    const std::string channel[] = {"big"};
    for (std::size_t i = 0; i < cfg.n; ++i) {
      if (auto s = st.create_session(new_connection_id().value(), std::nullopt, gw->id, channel); !s) {
        fail(s.error().message);
      }
    }
  }
  const dispatch::session_set big(delivery, st, store::session_query{}.in_channel("big"), &history);
  double publish_rate = 0;
  double send_rate = 0;
  for (int round = 0; round < 3; ++round) {
    const auto rate = [](const result<dispatch::delivery_report>& r) {
      if (!r) fail(r.error().message);
      return static_cast<double>(r->delivered) / std::chrono::duration<double>(r->elapsed).count();
    };
    auto sent = big.send_message(k_message).wait();
    send_rate = std::max(send_rate, rate(sent));
    const auto started = steady::now();
    auto published = big.publish(k_message).wait();
    // The publish's rate includes its append, which the report's elapsed time does not.
    if (!published) fail(published.error().message);
    publish_rate = std::max(publish_rate, static_cast<double>(published->delivered) /
                                              std::chrono::duration<double>(steady::now() - started).count());
    (void)rate(published);
  }
  std::printf("%-44s %8.0f deliveries/s (best of 3)\n", "send_message to 1 channel of N sessions:", send_rate);
  std::printf("%-44s %8.0f deliveries/s (best of 3) = %.3f of send_message\n",
              "publish (history) to the same:", publish_rate, publish_rate / send_rate);

  // 2. Recovery: C clients that missed M messages each, all asking at once.
  std::vector<double> recover_ms;
  {
    dispatch::builtin_authenticator auth(st, clk, "bench secret bench secret bench secret",
                                         dispatch::builtin_auth_options{.secure_cookie = false, .fast_hashing = true});
    dispatch::backend_options bopts;
    bopts.security.use_ws_token = false;
    bopts.rate_limit.enabled = false;
    bopts.workers = cfg.threads;
    bopts.history = hopts;
    bopts.log = [](std::string_view) {};
    dispatch::backend app(st, delivery, auth, clk, bopts);
    dispatch::view v;
    dispatch::fake_gateway fake(app, v, {});
    const dispatch::session_set room(delivery, st, store::session_query{}.in_channel("room"), &history);
    std::string epoch;
    for (std::size_t i = 0; i < cfg.missed; ++i) {
      auto h =
          room.publish(json::object{{"type", "chat_message"}, {"room", "room"}, {"n", i}, {"text", "hello there"}});
      if (!h.wait()) fail("publish to room failed");
      epoch = h.epoch();
    }
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < cfg.clients; ++i) {
      ids.push_back(new_connection_id().value());
      if (fake.connect(ids.back(), {.query = "channel=lobby"}).status != 200) fail("connect refused");
    }
    recover_ms.resize(cfg.clients);
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> bad{0};
    std::vector<std::thread> workers;
    for (std::size_t t = 0; t < cfg.threads; ++t) {
      workers.emplace_back([&] {
        for (std::size_t i = next++; i < cfg.clients; i = next++) {
          const auto started = steady::now();
          const auto r = fake.message(
              ids[i], json::object{{"handler", "apigw.recover"},
                                   {"channels",
                                    json::array{json::object{{"channel", "room"}, {"epoch", epoch}, {"offset", 0}}}}});
          recover_ms[i] = std::chrono::duration<double, std::milli>(steady::now() - started).count();
          if (r.status != 200) ++bad;
        }
      });
    }
    for (auto& w : workers) w.join();
    if (bad > 0) fail(fmt::format("{} recoveries failed", bad.load()));
  }
  const double p50 = percentile(recover_ms, 0.50);
  const double p99 = percentile(recover_ms, 0.99);
  std::printf("%-44s p50 %.1f ms, p99 %.1f ms (%zu clients at once, %zu threads)\n",
              fmt::format("recovery of {} missed messages:", cfg.missed).c_str(), p50, p99, cfg.clients, cfg.threads);

  // 3. Many small channels: K channels of two sessions, T threads publishing round robin.
  for (std::size_t c = 0; c < cfg.channels; ++c) {
    const std::string channel[] = {fmt::format("small-{}", c)};
    for (int i = 0; i < 2; ++i) {
      if (!st.create_session(new_connection_id().value(), std::nullopt, gw->id, channel)) fail("session");
    }
  }
  const auto small_rate = [&](bool with_history) {
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> workers;
    const auto started = steady::now();
    for (std::size_t t = 0; t < cfg.threads; ++t) {
      workers.emplace_back([&] {
        for (std::size_t i = next++; i < cfg.publishes; i = next++) {
          const dispatch::session_set to(
              delivery, st, store::session_query{}.in_channel(fmt::format("small-{}", i % cfg.channels)), &history);
          auto r = with_history ? to.publish(k_message).wait() : to.send_message(k_message).wait();
          if (!r) fail(r.error().message);
        }
      });
    }
    for (auto& w : workers) w.join();
    return static_cast<double>(cfg.publishes) / std::chrono::duration<double>(steady::now() - started).count();
  };
  const double small_send = small_rate(false);
  const double small_publish = small_rate(true);
  std::printf("%-44s %8.0f sends/s (%zu threads, each waiting for its report)\n",
              fmt::format("send_message to {} small channels:", cfg.channels).c_str(), small_send, cfg.threads);
  std::printf("%-44s %8.0f publishes/s = %.3f of send_message\n", "publish (history) to the same:", small_publish,
              small_publish / small_send);

  opened->reset();
  std::filesystem::remove_all(dir);
  std::printf(
      "RESULT history n=%zu publish_per_s=%.0f send_per_s=%.0f publish_share=%.3f recover_clients=%zu "
      "recover_missed=%zu recover_p50_ms=%.1f recover_p99_ms=%.1f small_channels=%zu small_publish_per_s=%.0f "
      "small_send_per_s=%.0f\n",
      cfg.n, publish_rate, send_rate, publish_rate / send_rate, cfg.clients, cfg.missed, p50, p99, cfg.channels,
      small_publish, small_send);
  return 0;
}
