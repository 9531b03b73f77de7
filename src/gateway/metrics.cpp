// /metrics counters and the optional rate limits.
#include "gateway/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace apigw::gateway::detail {

void metrics::management_call(const std::string& method, unsigned status) {
  std::lock_guard lock(mu_);
  ++calls_[{method, status}];
}

void metrics::integration_latency(std::chrono::steady_clock::duration d) {
  const double s = std::chrono::duration<double>(d).count();
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < k_buckets.size(); ++i) {
    if (s <= k_buckets[i]) ++bucket_counts_[i];
  }
  ++latency_count_;
  latency_sum_ += s;
}

void metrics::close_cause(const std::string& cause) {
  std::lock_guard lock(mu_);
  ++causes_[cause];
}

std::string metrics::render() const {
  std::string out;
  const auto counter = [&](std::string_view name, std::string_view help, std::uint64_t v, std::string_view type) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, v);
  };
  counter("apigw_gateway_connections_open", "Open WebSocket connections.", connections_open.load(), "gauge");
  counter("apigw_gateway_connections_total", "WebSocket connections accepted.", connections_total.load(), "counter");
  counter("apigw_gateway_connections_rejected_total", "WebSocket handshakes refused.", connections_rejected.load(),
          "counter");
  counter("apigw_gateway_messages_in_total", "Messages received from clients.", messages_in.load(), "counter");
  counter("apigw_gateway_messages_out_total", "Messages sent to clients.", messages_out.load(), "counter");
  counter("apigw_gateway_disconnects_total", "$disconnect events fired.", disconnects_fired.load(), "counter");
  std::lock_guard lock(mu_);
  out += "# HELP apigw_gateway_management_calls_total @connections calls by method and status.\n";
  out += "# TYPE apigw_gateway_management_calls_total counter\n";
  for (const auto& [key, n] : calls_) {
    out += fmt::format("apigw_gateway_management_calls_total{{method=\"{}\",status=\"{}\"}} {}\n", key.first,
                       key.second, n);
  }
  out += "# HELP apigw_gateway_closes_total Closed connections by cause.\n";
  out += "# TYPE apigw_gateway_closes_total counter\n";
  for (const auto& [cause, n] : causes_)
    out += fmt::format("apigw_gateway_closes_total{{cause=\"{}\"}} {}\n", cause, n);
  out += "# HELP apigw_gateway_integration_latency_seconds Integration request latency.\n";
  out += "# TYPE apigw_gateway_integration_latency_seconds histogram\n";
  for (std::size_t i = 0; i < k_buckets.size(); ++i) {
    out += fmt::format("apigw_gateway_integration_latency_seconds_bucket{{le=\"{}\"}} {}\n", k_buckets[i],
                       bucket_counts_[i]);
  }
  out += fmt::format("apigw_gateway_integration_latency_seconds_bucket{{le=\"+Inf\"}} {}\n", latency_count_);
  out += fmt::format("apigw_gateway_integration_latency_seconds_sum {}\n", latency_sum_);
  out += fmt::format("apigw_gateway_integration_latency_seconds_count {}\n", latency_count_);
  return out;
}

bool rate_limit::take(std::chrono::steady_clock::time_point now) noexcept {
  if (rate_ <= 0) return true;
  std::lock_guard lock(mu_);
  if (!bucket_) bucket_.emplace(rate_, burst_, now);
  return bucket_->try_take(now);
}

}  // namespace apigw::gateway::detail
