// apigw/dispatch/rate_limiter.hpp: connection-attempt rate limiting over a sliding window.
//
// `sliding_window` is the pure core: timestamps per key, counted over [now - window, now], time
// passed in. `rate_limiter` combines it with the store: every attempt (successful or failed) is
// recorded in memory and in the store's connection_attempts table, so the limit holds across
// backend processes sharing one database. The check asks memory first: if this process alone has
// seen enough attempts the answer is "limited" without a query (the fast path for a client that
// hammers one process); otherwise the store's count over the window decides.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/store/attempt_repository.hpp"
#include "apigw/store/records.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace apigw::dispatch {

// sliding_window: attempt times per key. Not thread-safe (rate_limiter locks around it).
class sliding_window {
 public:
  explicit sliding_window(clock::duration window) noexcept : window_(window) {}

  // add: records one attempt for `key` at `now`.
  void add(const std::string& key, clock::time_point now);
  // count: attempts for `key` in (now - window, now].
  std::size_t count(const std::string& key, clock::time_point now);
  // prune: forgets keys with no attempt in the window (bounds memory); returns how many went.
  std::size_t prune(clock::time_point now);
  // keys: how many keys are tracked.
  std::size_t keys() const noexcept { return times_.size(); }

 private:
  void expire(std::deque<clock::time_point>& q, clock::time_point now) const;
  clock::duration window_;
  std::unordered_map<std::string, std::deque<clock::time_point>> times_;
};

// rate_limit_options: the limit: at most `max_attempts` per IP and per user in `window`.
struct rate_limit_options {
  bool enabled = true;
  std::size_t max_attempts = 20;
  std::chrono::seconds window{60};
};

// rate_decision: the outcome of a check.
struct rate_decision {
  bool allowed = true;
  std::int64_t count = 0;  // the larger of the IP and user counts seen
};

// rate_limiter: see the file comment. Thread-safe.
class rate_limiter {
 public:
  // rate_limiter: limits over `store` (may be null: memory only, one process).
  rate_limiter(store::attempt_repository* store, rate_limit_options options) noexcept;

  // check: whether another attempt from `ip` (and `user`) is allowed at `now`. A store failure is
  // returned as is: the caller decides whether to fail open or closed (the backend fails closed).
  result<rate_decision> check(const std::string& ip, std::optional<store::user_id> user, clock::time_point now);
  // record: logs one attempt, successful or not, in memory and in the store.
  result<void> record(const std::string& ip, std::optional<store::user_id> user, bool successful,
                      clock::time_point now);

  const rate_limit_options& options() const noexcept { return options_; }

 private:
  store::attempt_repository* store_;
  rate_limit_options options_;
  std::mutex mutex_;
  sliding_window local_;
  clock::time_point last_prune_{};
};

}  // namespace apigw::dispatch
