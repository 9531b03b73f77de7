#include "apigw/core/clock.hpp"

#include <gtest/gtest.h>

namespace apigw {
namespace {

TEST(clock, manual_clock_moves_only_when_told) {
  manual_clock c{from_unix_millis(1'440'938'160'000)};  // 2015-08-30T12:36:00Z
  EXPECT_EQ(format_amz_date(c.now()), "20150830T123600Z");
  c.advance(std::chrono::milliseconds{1234});
  EXPECT_EQ(format_iso8601(c.now()), "2015-08-30T12:36:01.234Z");
}

TEST(clock, system_clock_is_after_2024) {
  EXPECT_GT(unix_millis(system_clock_source::instance().now()), 1'700'000'000'000);
}

}  // namespace
}  // namespace apigw
