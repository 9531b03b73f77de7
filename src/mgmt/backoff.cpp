// Exponential backoff with full jitter.
#include "apigw/mgmt/backoff.hpp"

#include <algorithm>

namespace apigw::mgmt {

std::chrono::nanoseconds backoff_cap(const retry_policy& policy, std::size_t retry) noexcept {
  const std::chrono::nanoseconds max = policy.max_delay;
  std::chrono::nanoseconds cap = policy.base_delay;
  for (std::size_t i = 0; i < retry && cap < max; ++i) cap *= 2;
  return std::min(cap, max);
}

std::chrono::nanoseconds backoff_delay(const retry_policy& policy, std::size_t retry, double random01) noexcept {
  const double r = std::clamp(random01, 0.0, 1.0);
  const auto cap = backoff_cap(policy, retry);
  const auto delay = std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(cap.count()) * r));
  return std::min(delay, cap);
}

}  // namespace apigw::mgmt
