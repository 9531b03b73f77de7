// apigw/mgmt/token_bucket.hpp: a requests-per-second cap (token bucket), so a large fan-out stays
// inside AWS's account-wide throttle (10,000 requests/s with a burst of 5,000, shared by every API
// of the account and region, @connections calls included). Pure: the time is passed in; not
// thread-safe (the sender guards it with a mutex).
#pragma once

#include <chrono>

namespace apigw::mgmt {

// token_bucket: `rate` tokens per second, holding at most `burst`; starts full.
class token_bucket {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  // token_bucket: rate > 0 tokens per second; burst >= 1 (smaller values are raised to 1).
  token_bucket(double rate_per_second, double burst, time_point now) noexcept;

  // reserve: takes one token and returns how long to wait before using it: zero when one was
  // available, otherwise the time until the bucket has refilled enough. The bucket goes into debt
  // for waiting callers, so reservations are served in call order and the rate holds exactly.
  std::chrono::nanoseconds reserve(time_point now) noexcept;

  // available: tokens available at `now` (negative while in debt).
  double available(time_point now) const noexcept;

 private:
  void refill(time_point now) noexcept;
  double rate_;
  double burst_;
  double tokens_;
  time_point last_;
};

}  // namespace apigw::mgmt
