// Sliding-window rate limiting of connection attempts, in memory and through the store.
#include "apigw/dispatch/rate_limiter.hpp"

#include <algorithm>

namespace apigw::dispatch {
namespace {

std::string ip_key(const std::string& ip) {
  return "ip:" + ip;
}
std::string user_key(store::user_id user) {
  return "user:" + std::to_string(user);
}

}  // namespace

void sliding_window::expire(std::deque<clock::time_point>& q, clock::time_point now) const {
  while (!q.empty() && q.front() <= now - window_) q.pop_front();
}

void sliding_window::add(const std::string& key, clock::time_point now) {
  auto& q = times_[key];
  expire(q, now);
  // Keep the deque sorted even if a caller's clock stepped back.
  q.insert(std::upper_bound(q.begin(), q.end(), now), now);
}

std::size_t sliding_window::count(const std::string& key, clock::time_point now) {
  const auto it = times_.find(key);
  if (it == times_.end()) return 0;
  expire(it->second, now);
  return static_cast<std::size_t>(
      std::count_if(it->second.begin(), it->second.end(), [&](clock::time_point t) { return t <= now; }));
}

std::size_t sliding_window::prune(clock::time_point now) {
  std::size_t removed = 0;
  for (auto it = times_.begin(); it != times_.end();) {
    expire(it->second, now);
    if (it->second.empty()) {
      it = times_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

rate_limiter::rate_limiter(store::attempt_repository* store, rate_limit_options options) noexcept
    : store_(store), options_(options), local_(options.window) {}

result<rate_decision> rate_limiter::check(const std::string& ip, std::optional<store::user_id> user,
                                          clock::time_point now) {
  if (!options_.enabled) return rate_decision{};
  const auto max = static_cast<std::int64_t>(options_.max_attempts);
  {
    std::lock_guard lock(mutex_);
    const auto by_ip = static_cast<std::int64_t>(local_.count(ip_key(ip), now));
    const auto by_user = user ? static_cast<std::int64_t>(local_.count(user_key(*user), now)) : 0;
    // Fast path: this process alone saw enough; the shared count can only be higher.
    if (by_ip >= max || by_user >= max) return rate_decision{false, std::max(by_ip, by_user)};
    if (store_ == nullptr) return rate_decision{true, std::max(by_ip, by_user)};
  }
  auto counts = store_->count_attempts_since(ip, user, now - options_.window);
  if (!counts) return counts.error();
  const auto seen = std::max(counts->by_ip, counts->by_user);
  return rate_decision{counts->by_ip < max && counts->by_user < max, seen};
}

result<void> rate_limiter::record(const std::string& ip, std::optional<store::user_id> user, bool successful,
                                  clock::time_point now) {
  if (!options_.enabled) return ok();
  {
    std::lock_guard lock(mutex_);
    local_.add(ip_key(ip), now);
    if (user) local_.add(user_key(*user), now);
    if (now - last_prune_ > options_.window) {
      local_.prune(now);
      last_prune_ = now;
    }
  }
  if (store_ == nullptr) return ok();
  return store_->record_attempt(ip, user, successful);
}

}  // namespace apigw::dispatch
