#include "apigw/mgmt/backoff.hpp"

#include <gtest/gtest.h>

namespace apigw::mgmt {
namespace {

using namespace std::chrono_literals;

TEST(mgmt_backoff, cap_doubles_up_to_the_maximum) {
  retry_policy p;
  p.base_delay = 25ms;
  p.max_delay = 150ms;
  EXPECT_EQ(backoff_cap(p, 0), 25ms);
  EXPECT_EQ(backoff_cap(p, 1), 50ms);
  EXPECT_EQ(backoff_cap(p, 2), 100ms);
  EXPECT_EQ(backoff_cap(p, 3), 150ms);
  EXPECT_EQ(backoff_cap(p, 60), 150ms);  // no overflow for large retry counts
}

TEST(mgmt_backoff, full_jitter_scales_the_cap_by_the_random_number) {
  retry_policy p;
  p.base_delay = 100ms;
  p.max_delay = 1000ms;
  EXPECT_EQ(backoff_delay(p, 0, 0.0), 0ms);
  EXPECT_EQ(backoff_delay(p, 0, 0.5), 50ms);
  EXPECT_EQ(backoff_delay(p, 2, 0.25), 100ms);
  EXPECT_EQ(backoff_delay(p, 5, 0.5), 500ms);
  EXPECT_EQ(backoff_delay(p, 0, 1.5), 100ms);  // clamped
  EXPECT_EQ(backoff_delay(p, 0, -1.0), 0ms);   // clamped
}

}  // namespace
}  // namespace apigw::mgmt
