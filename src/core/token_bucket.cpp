// Token bucket: reserve() always succeeds (with debt) and says how long to wait; try_take()
// refuses when no token is there.
#include "apigw/core/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace apigw {

token_bucket::token_bucket(double rate_per_second, double burst, time_point now) noexcept
    : rate_(rate_per_second > 0 ? rate_per_second : 1.0), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

void token_bucket::refill(time_point now) noexcept {
  if (now <= last_) return;
  const double seconds = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + seconds * rate_);
  last_ = now;
}

std::chrono::nanoseconds token_bucket::reserve(time_point now) noexcept {
  refill(now);
  tokens_ -= 1.0;
  if (tokens_ >= 0.0) return std::chrono::nanoseconds{0};
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::ceil(-tokens_ * 1e9 / rate_)));
}

bool token_bucket::try_take(time_point now) noexcept {
  refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

double token_bucket::available(time_point now) const noexcept {
  if (now <= last_) return tokens_;
  const double seconds = std::chrono::duration<double>(now - last_).count();
  return std::min(burst_, tokens_ + seconds * rate_);
}

}  // namespace apigw
