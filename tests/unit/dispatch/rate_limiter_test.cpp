// Tests of the sliding window (pure, time passed in) and of the memory-only rate limiter.
#include "apigw/dispatch/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace apigw::dispatch {
namespace {

using namespace std::chrono_literals;

TEST(sliding_window, counts_within_the_window_only) {
  sliding_window w(60s);
  const clock::time_point t0{std::chrono::seconds{1000}};
  w.add("a", t0);
  w.add("a", t0 + 30s);
  w.add("b", t0 + 30s);
  EXPECT_EQ(w.count("a", t0 + 30s), 2U);
  EXPECT_EQ(w.count("a", t0 + 60s), 1U) << "the first attempt left the window";
  EXPECT_EQ(w.count("a", t0 + 90s), 0U);
  EXPECT_EQ(w.count("c", t0), 0U);
  EXPECT_EQ(w.prune(t0 + 91s), 2U);
  EXPECT_EQ(w.keys(), 0U);
}

TEST(rate_limiter, memory_only_limits_ip_and_user) {
  rate_limiter limiter(nullptr, {.enabled = true, .max_attempts = 2, .window = 10s});
  const clock::time_point t0{std::chrono::seconds{1000}};
  EXPECT_TRUE(limiter.check("1.1.1.1", 7, t0)->allowed);
  ASSERT_TRUE(limiter.record("1.1.1.1", 7, false, t0));
  ASSERT_TRUE(limiter.record("2.2.2.2", 7, true, t0));
  auto d = limiter.check("3.3.3.3", 7, t0);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->allowed) << "the user reached the limit from two addresses";
  EXPECT_EQ(d->count, 2);
  EXPECT_TRUE(limiter.check("3.3.3.3", std::nullopt, t0)->allowed);
  EXPECT_TRUE(limiter.check("3.3.3.3", 7, t0 + 11s)->allowed);
}

TEST(rate_limiter, disabled_allows_everything) {
  rate_limiter limiter(nullptr, {.enabled = false, .max_attempts = 0});
  EXPECT_TRUE(limiter.check("1.1.1.1", std::nullopt, {})->allowed);
}

}  // namespace
}  // namespace apigw::dispatch
