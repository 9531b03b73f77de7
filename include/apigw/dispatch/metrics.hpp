// apigw/dispatch/metrics.hpp: the backend's counters, served as GET /metrics by the embedded server
// in Prometheus text format 0.0.4: integration requests by route and status with the time they
// took, store-call latency, connect tokens issued and refused, rate-limit refusals, the outcome of
// every send (delivered, gone, failed, retried; sends in flight) and the worker queue. Thread-safe;
// an update is an atomic add or a short critical section.
#pragma once

#include "apigw/mgmt/delivery_report.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace apigw::dispatch {

// latency_histogram: a Prometheus histogram of durations in seconds (cumulative buckets).
class latency_histogram {
 public:
  void observe(std::chrono::nanoseconds d) noexcept;
  // render: the _bucket, _sum and _count lines of `name` (with `help`).
  std::string render(std::string_view name, std::string_view help) const;

 private:
  static constexpr std::array<double, 14> k_buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                       0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  std::array<std::atomic<std::uint64_t>, k_buckets.size()> counts_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_ns_{0};
};

// metrics_totals: the counters a live view samples (the operator console's charts): totals since
// the backend started; a rate is the difference of two samples.
struct metrics_totals {
  std::uint64_t connects = 0;     // $connect requests, any status
  std::uint64_t disconnects = 0;  // $disconnect requests
  std::uint64_t messages = 0;     // every other integration request (client messages)
  std::uint64_t sends = 0;        // sends finished
  std::uint64_t delivered = 0;
  std::uint64_t gone = 0;
  std::uint64_t failed = 0;
  std::uint64_t retries = 0;
  // channels: per channel sent to (session_set::in_channel(...).send_message), the messages sent
  // and the deliveries they made; at most backend_metrics::k_max_channels names, later channels
  // counted under "_other".
  struct channel_counts {
    std::uint64_t sends = 0;
    std::uint64_t delivered = 0;
  };
  std::map<std::string, channel_counts, std::less<>> channels;
};

// backend_metrics: see the file comment.
class backend_metrics {
 public:
  // k_max_series: distinct (route, status) series kept; further routes count as route="_other".
  static constexpr std::size_t k_max_series = 256;
  // k_max_channels: distinct channels counted in totals().channels. Channel names are the
  // application's (a task id per channel is common), so the map is capped rather than let grow.
  // They are not rendered as Prometheus series, for the same reason.
  static constexpr std::size_t k_max_channels = 256;

  // request: an integration request on `route` answered `status` after `took`.
  void request(std::string_view route, unsigned status, std::chrono::nanoseconds took);
  // store_call: one store call the backend made for a request.
  void store_call(std::chrono::nanoseconds took) noexcept { store_latency_.observe(took); }
  // token_issued / token_refused: the connect-token endpoint and $connect's token check.
  void token_issued() noexcept { tokens_issued_.fetch_add(1, std::memory_order_relaxed); }
  void token_refused(std::string_view reason);
  // rate_limited: a refusal by a rate limit (`what`: "connect", "token").
  void rate_limited(std::string_view what);
  // send_started / send_finished: one send (to any number of recipients); `report` is null when
  // the send failed as a whole; `channel`: the channel it went to, empty when it was not a channel send.
  void send_started() noexcept { sends_started_.fetch_add(1, std::memory_order_relaxed); }
  void send_finished(const mgmt::delivery_report* report, std::string_view channel = {});
  // totals: the counters now (one short critical section).
  metrics_totals totals() const;
  // render: every series; `queue_depth`/`queue_capacity` are the worker queue's now.
  std::string render(std::size_t queue_depth, std::size_t queue_capacity) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, unsigned>, std::uint64_t> requests_;
  std::map<std::string, std::uint64_t> tokens_refused_;
  std::map<std::string, std::uint64_t> rate_limited_;
  std::map<std::string, metrics_totals::channel_counts, std::less<>> channels_;
  latency_histogram request_latency_;
  latency_histogram store_latency_;
  std::atomic<std::uint64_t> tokens_issued_{0};
  std::atomic<std::uint64_t> sends_started_{0};
  std::atomic<std::uint64_t> sends_finished_{0};
  std::atomic<std::uint64_t> sends_failed_{0};
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> gone_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> retries_{0};
};

}  // namespace apigw::dispatch
