// apigw/core/token_bucket.hpp: the one token bucket of the project: a rate cap that spends a
// token per request. The sender paces a fan-out with it (reserve: wait, never refuse), and the
// gateway's optional account-style limits refuse with it (try_take). Pure: the time is passed in;
// not thread-safe (callers guard it).
#pragma once

#include <chrono>

namespace apigw {

// token_bucket: `rate` tokens per second, holding at most `burst`; starts full.
class token_bucket {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  // token_bucket: rate > 0 tokens per second (smaller values are raised to 1); burst >= 1
  // (smaller values are raised to 1).
  token_bucket(double rate_per_second, double burst, time_point now) noexcept;

  // reserve: takes one token and returns how long to wait before using it: zero when one was
  // available, otherwise the time until the bucket has refilled enough. The bucket goes into debt
  // for waiting callers, so reservations are served in call order and the rate holds exactly.
  std::chrono::nanoseconds reserve(time_point now) noexcept;

  // try_take: takes one token if one is available at `now` and returns true; otherwise leaves
  // the bucket as it is and returns false (the caller refuses the request).
  bool try_take(time_point now) noexcept;

  // available: tokens available at `now` (negative while in debt).
  double available(time_point now) const noexcept;

 private:
  void refill(time_point now) noexcept;
  double rate_;
  double burst_;
  double tokens_;
  time_point last_;
};

}  // namespace apigw
