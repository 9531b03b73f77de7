// Unit tests of the core token bucket's refusing side (try_take); the pacing side (reserve) is
// tested where the sender uses it (tests/unit/mgmt/token_bucket_test.cpp).
#include "apigw/core/token_bucket.hpp"

#include <gtest/gtest.h>

namespace apigw {
namespace {

using namespace std::chrono_literals;

TEST(core_token_bucket, try_take_spends_the_burst_then_refuses_until_refilled) {
  const token_bucket::time_point t0{};
  token_bucket b(10, 2, t0);
  EXPECT_TRUE(b.try_take(t0));
  EXPECT_TRUE(b.try_take(t0));
  EXPECT_FALSE(b.try_take(t0)) << "a refusal spends nothing";
  EXPECT_FALSE(b.try_take(t0 + 50ms));
  EXPECT_TRUE(b.try_take(t0 + 100ms)) << "one token per 100 ms at 10/s";
  EXPECT_FALSE(b.try_take(t0 + 100ms));
  EXPECT_TRUE(b.try_take(t0 + 10s));
  EXPECT_TRUE(b.try_take(t0 + 10s));
  EXPECT_FALSE(b.try_take(t0 + 10s)) << "never more than the burst";
}

}  // namespace
}  // namespace apigw
