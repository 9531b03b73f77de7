#include "apigw/mgmt/token_bucket.hpp"

#include <gtest/gtest.h>

namespace apigw::mgmt {
namespace {

using namespace std::chrono_literals;

TEST(mgmt_token_bucket, burst_is_free_then_requests_are_spaced_at_the_rate) {
  const token_bucket::time_point t0{};
  token_bucket b(10'000, 3, t0);
  EXPECT_EQ(b.reserve(t0), 0ns);
  EXPECT_EQ(b.reserve(t0), 0ns);
  EXPECT_EQ(b.reserve(t0), 0ns);
  EXPECT_EQ(b.reserve(t0), 100us);  // 1/10,000 s
  EXPECT_EQ(b.reserve(t0), 200us);  // reservations queue in order
  EXPECT_DOUBLE_EQ(b.available(t0), -2.0);
}

TEST(mgmt_token_bucket, refills_with_time_up_to_the_burst) {
  const token_bucket::time_point t0{};
  token_bucket b(100, 5, t0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(b.reserve(t0), 0ns);
  EXPECT_EQ(b.reserve(t0 + 10ms), 0ns);  // one token came back
  EXPECT_EQ(b.reserve(t0 + 10ms), 10ms);
  EXPECT_DOUBLE_EQ(b.available(t0 + 1h), 5.0);
  EXPECT_EQ(b.reserve(t0 + 1h), 0ns);
}

TEST(mgmt_token_bucket, sustained_rate_holds) {
  const token_bucket::time_point t0{};
  token_bucket b(1000, 1, t0);
  std::chrono::nanoseconds last{0};
  for (int i = 0; i < 1000; ++i) last = b.reserve(t0);
  EXPECT_EQ(last, 999ms);  // 1,000 requests at 1,000/s take ~1 s
}

}  // namespace
}  // namespace apigw::mgmt
