// Private to the gateway: the counters behind /metrics (Prometheus text format 0.0.4) and the
// optional rate limits (the core token bucket behind a mutex; the time is passed in).
#pragma once

#include "apigw/core/token_bucket.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace apigw::gateway::detail {

// metrics: thread-safe counters; render() produces the exposition text.
class metrics {
 public:
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_rejected{0};
  std::atomic<std::uint64_t> messages_in{0};
  std::atomic<std::uint64_t> messages_out{0};
  std::atomic<std::uint64_t> disconnects_fired{0};

  // management_call: one @connections call answered with `status`.
  void management_call(const std::string& method, unsigned status);
  // integration_latency: one integration request that took `d` (whatever its outcome).
  void integration_latency(std::chrono::steady_clock::duration d);
  // close_cause: one connection closed for `cause` ("client", "idle", ...).
  void close_cause(const std::string& cause);
  // render: every metric in Prometheus text format.
  std::string render() const;

 private:
  static constexpr std::array<double, 13> k_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 29};
  mutable std::mutex mu_;
  std::map<std::pair<std::string, unsigned>, std::uint64_t> calls_;
  std::map<std::string, std::uint64_t> causes_;
  std::array<std::uint64_t, k_buckets.size()> bucket_counts_{};
  std::uint64_t latency_count_ = 0;
  double latency_sum_ = 0;
};

// rate_limit: an optional account-style limit (new connections, @connections calls) on the core
// token bucket: `rate` per second up to `burst`; thread-safe.
class rate_limit {
 public:
  rate_limit(double rate, double burst) noexcept : rate_(rate), burst_(burst) {}
  // take: true (and one token spent) when a token is available at `now`; always true when rate <= 0.
  bool take(std::chrono::steady_clock::time_point now) noexcept;

 private:
  std::mutex mu_;
  double rate_;
  double burst_;
  std::optional<token_bucket> bucket_;  // made full at the first take
};

}  // namespace apigw::gateway::detail
