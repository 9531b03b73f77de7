// apigw/mgmt/backoff.hpp: how long to wait before retrying a throttled or failed request.
// Exponential backoff with "full jitter" (a uniformly random wait between zero and the
// exponential cap), which spreads the retries of a large fan-out instead of synchronising them.
// Pure arithmetic: the random number is passed in.
#pragma once

#include <chrono>
#include <cstddef>

namespace apigw::mgmt {

// retry_policy: how often and how patiently to retry.
struct retry_policy {
  std::size_t max_attempts = 4;               // first try included; 1 = never retry
  std::chrono::milliseconds base_delay{25};   // cap of the first retry's wait
  std::chrono::milliseconds max_delay{2000};  // no wait is ever longer
};

// backoff_cap: min(max_delay, base_delay * 2^retry) for the retry-th retry (0 = the first retry).
std::chrono::nanoseconds backoff_cap(const retry_policy& policy, std::size_t retry) noexcept;

// backoff_delay: the full-jitter wait before the retry-th retry: `random01` (in [0, 1); clamped)
// times backoff_cap(policy, retry).
std::chrono::nanoseconds backoff_delay(const retry_policy& policy, std::size_t retry, double random01) noexcept;

}  // namespace apigw::mgmt
