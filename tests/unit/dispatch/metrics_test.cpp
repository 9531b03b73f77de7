// Unit tests of the backend's metrics: cumulative histogram buckets, labelled counters, sends in
// flight, and the exposition format's escaping.
#include "apigw/dispatch/metrics.hpp"

#include <gtest/gtest.h>

namespace apigw::dispatch {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

TEST(BackendMetrics, HistogramBucketsAreCumulative) {
  backend_metrics m;
  m.request("default", 200, microseconds(300));  // <= 0.0005
  m.request("default", 200, milliseconds(3));    // <= 0.005
  m.request("connect", 403, milliseconds(20));   // <= 0.025
  const auto text = m.render(0, 10);
  EXPECT_TRUE(has_line(text, R"(apigw_backend_request_duration_seconds_bucket{le="0.0005"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(apigw_backend_request_duration_seconds_bucket{le="0.005"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(apigw_backend_request_duration_seconds_bucket{le="0.025"} 3)")) << text;
  EXPECT_TRUE(has_line(text, R"(apigw_backend_request_duration_seconds_bucket{le="+Inf"} 3)")) << text;
  EXPECT_TRUE(has_line(text, "apigw_backend_request_duration_seconds_count 3")) << text;
  EXPECT_TRUE(has_line(text, R"(apigw_backend_requests_total{route="default",status="200"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(apigw_backend_requests_total{route="connect",status="403"} 1)")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE apigw_backend_request_duration_seconds histogram")) << text;
}

TEST(BackendMetrics, SendsInFlightAndOutcomes) {
  backend_metrics m;
  m.send_started();
  m.send_started();
  mgmt::delivery_report r;
  r.delivered = 7;
  r.gone = {"a", "b"};
  r.retries = 4;
  m.send_finished(&r);
  auto text = m.render(3, 1024);
  EXPECT_TRUE(has_line(text, "apigw_backend_sends_in_flight 1")) << text;
  EXPECT_TRUE(has_line(text, R"(apigw_backend_deliveries_total{outcome="delivered"} 7)")) << text;
  EXPECT_TRUE(has_line(text, R"(apigw_backend_deliveries_total{outcome="gone"} 2)")) << text;
  EXPECT_TRUE(has_line(text, "apigw_backend_delivery_retries_total 4")) << text;
  EXPECT_TRUE(has_line(text, "apigw_backend_worker_queue_depth 3")) << text;
  EXPECT_TRUE(has_line(text, "apigw_backend_worker_queue_capacity 1024")) << text;
  m.send_finished(nullptr);
  text = m.render(0, 1024);
  EXPECT_TRUE(has_line(text, "apigw_backend_sends_in_flight 0")) << text;
  EXPECT_TRUE(has_line(text, "apigw_backend_sends_failed_total 1")) << text;
  EXPECT_TRUE(has_line(text, "apigw_backend_sends_total 2")) << text;
}

TEST(BackendMetrics, RouteSeriesAreCapped) {
  // Anyone who reaches the backend picks the route name in the path: the series must not grow
  // without bound.
  backend_metrics m;
  for (std::size_t i = 0; i < 2 * backend_metrics::k_max_series; ++i) m.request("r" + std::to_string(i), 400, {});
  m.request("r0", 400, {});  // a series kept before the cap still counts on its own
  const auto text = m.render(0, 1);
  std::size_t series = 0;
  for (std::size_t at = text.find("apigw_backend_requests_total{"); at != std::string::npos;
       at = text.find("apigw_backend_requests_total{", at + 1)) {
    ++series;
  }
  EXPECT_EQ(series, backend_metrics::k_max_series + 1);
  EXPECT_TRUE(has_line(text, R"(apigw_backend_requests_total{route="_other",status="400"} 256)")) << text;
  EXPECT_TRUE(has_line(text, R"(apigw_backend_requests_total{route="r0",status="400"} 2)")) << text;
}

TEST(BackendMetrics, LabelValuesAreEscaped) {
  backend_metrics m;
  m.request("we\"ird\\route\n", 200, milliseconds(1));
  m.rate_limited("connect");
  m.token_refused("csrf");
  const auto text = m.render(0, 1);
  EXPECT_TRUE(has_line(text, R"(apigw_backend_requests_total{route="we\"ird\\route\n",status="200"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(apigw_backend_rate_limited_total{limit="connect"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(apigw_backend_tokens_refused_total{reason="csrf"} 1)")) << text;
}

}  // namespace
}  // namespace apigw::dispatch
