#include "apigw/dispatch/metrics.hpp"

#include <fmt/format.h>

namespace apigw::dispatch {

namespace {

// label: a label value escaped for the exposition format (backslash, quote, newline).
std::string label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

void counter_header(std::string& out, std::string_view name, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, help, name);
}

}  // namespace

void latency_histogram::observe(std::chrono::nanoseconds d) noexcept {
  const double s = std::chrono::duration<double>(d).count();
  for (std::size_t i = 0; i < k_buckets.size(); ++i) {
    if (s <= k_buckets[i]) counts_[i].fetch_add(1, std::memory_order_relaxed);
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(d.count() < 0 ? 0 : d.count()), std::memory_order_relaxed);
}

std::string latency_histogram::render(std::string_view name, std::string_view help) const {
  std::string out = fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  for (std::size_t i = 0; i < k_buckets.size(); ++i) {
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, k_buckets[i], counts_[i].load());
  }
  const auto count = count_.load();
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, count);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, static_cast<double>(sum_ns_.load()) / 1e9, name, count);
  return out;
}

void backend_metrics::request(std::string_view route, unsigned status, std::chrono::nanoseconds took) {
  request_latency_.observe(took);
  std::pair<std::string, unsigned> key{std::string(route), status};
  std::lock_guard lock(mu_);
  // A route name comes from the request path, which anyone who reaches the backend chooses: past
  // k_max_series distinct series, new ones are counted under route="_other".
  if (requests_.size() >= k_max_series && !requests_.contains(key)) key.first = "_other";
  ++requests_[key];
}

metrics_totals backend_metrics::totals() const {
  metrics_totals t;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, n] : requests_) {
      if (key.first == "connect") {
        t.connects += n;
      } else if (key.first == "disconnect") {
        t.disconnects += n;
      } else {
        t.messages += n;
      }
    }
    t.channels = channels_;
  }
  t.sends = sends_finished_.load(std::memory_order_relaxed);
  t.delivered = delivered_.load(std::memory_order_relaxed);
  t.gone = gone_.load(std::memory_order_relaxed);
  t.failed = failed_.load(std::memory_order_relaxed);
  t.retries = retries_.load(std::memory_order_relaxed);
  return t;
}

void backend_metrics::token_refused(std::string_view reason) {
  std::lock_guard lock(mu_);
  ++tokens_refused_[std::string(reason)];
}

void backend_metrics::rate_limited(std::string_view what) {
  std::lock_guard lock(mu_);
  ++rate_limited_[std::string(what)];
}

void backend_metrics::send_finished(const mgmt::delivery_report* report, std::string_view channel) {
  if (!channel.empty()) {
    std::lock_guard lock(mu_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) {
      it =
          channels_.try_emplace(channels_.size() < k_max_channels ? std::string(channel) : std::string("_other")).first;
    }
    ++it->second.sends;
    if (report != nullptr) it->second.delivered += report->delivered;
  }
  if (report == nullptr) {
    sends_failed_.fetch_add(1, std::memory_order_relaxed);
  } else {
    delivered_.fetch_add(report->delivered, std::memory_order_relaxed);
    gone_.fetch_add(report->gone.size(), std::memory_order_relaxed);
    failed_.fetch_add(report->failed.size(), std::memory_order_relaxed);
    retries_.fetch_add(report->retries, std::memory_order_relaxed);
  }
  sends_finished_.fetch_add(1, std::memory_order_release);
}

std::string backend_metrics::render(std::size_t queue_depth, std::size_t queue_capacity) const {
  std::string out;
  {
    std::lock_guard lock(mu_);
    counter_header(out, "apigw_backend_requests_total", "Integration requests answered, by route and status.");
    for (const auto& [key, n] : requests_) {
      out += fmt::format("apigw_backend_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", label(key.first),
                         key.second, n);
    }
    counter_header(out, "apigw_backend_tokens_refused_total", "Connect tokens refused, by reason.");
    for (const auto& [reason, n] : tokens_refused_) {
      out += fmt::format("apigw_backend_tokens_refused_total{{reason=\"{}\"}} {}\n", label(reason), n);
    }
    counter_header(out, "apigw_backend_rate_limited_total", "Requests refused by a rate limit, by limit.");
    for (const auto& [what, n] : rate_limited_) {
      out += fmt::format("apigw_backend_rate_limited_total{{limit=\"{}\"}} {}\n", label(what), n);
    }
  }
  out += request_latency_.render("apigw_backend_request_duration_seconds",
                                 "Time from receiving an integration request to its answer.");
  out += store_latency_.render("apigw_backend_store_duration_seconds", "Store calls made for integration requests.");
  counter_header(out, "apigw_backend_tokens_issued_total", "Connect tokens issued.");
  out += fmt::format("apigw_backend_tokens_issued_total {}\n", tokens_issued_.load());
  const auto finished = sends_finished_.load(std::memory_order_acquire);
  const auto started = sends_started_.load();
  counter_header(out, "apigw_backend_sends_total", "Sends finished (a send goes to any number of recipients).");
  out += fmt::format("apigw_backend_sends_total {}\n", finished);
  counter_header(out, "apigw_backend_sends_failed_total", "Sends that failed as a whole (no report).");
  out += fmt::format("apigw_backend_sends_failed_total {}\n", sends_failed_.load());
  out +=
      "# HELP apigw_backend_sends_in_flight Sends started and not finished.\n"
      "# TYPE apigw_backend_sends_in_flight gauge\n";
  out += fmt::format("apigw_backend_sends_in_flight {}\n", started > finished ? started - finished : 0);
  counter_header(out, "apigw_backend_deliveries_total", "Recipients, by outcome.");
  out += fmt::format("apigw_backend_deliveries_total{{outcome=\"delivered\"}} {}\n", delivered_.load());
  out += fmt::format("apigw_backend_deliveries_total{{outcome=\"gone\"}} {}\n", gone_.load());
  out += fmt::format("apigw_backend_deliveries_total{{outcome=\"failed\"}} {}\n", failed_.load());
  counter_header(out, "apigw_backend_delivery_retries_total", "Extra attempts over all recipients.");
  out += fmt::format("apigw_backend_delivery_retries_total {}\n", retries_.load());
  out +=
      "# HELP apigw_backend_worker_queue_depth Requests waiting for a handler thread.\n"
      "# TYPE apigw_backend_worker_queue_depth gauge\n";
  out += fmt::format("apigw_backend_worker_queue_depth {}\n", queue_depth);
  out +=
      "# HELP apigw_backend_worker_queue_capacity Requests that may wait; beyond it, 503.\n"
      "# TYPE apigw_backend_worker_queue_capacity gauge\n";
  out += fmt::format("apigw_backend_worker_queue_capacity {}\n", queue_capacity);
  return out;
}

}  // namespace apigw::dispatch
