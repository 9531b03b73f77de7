// apigw/store/attempt_repository.hpp: the connection-attempts slice of the store: every $connect
// attempt by client IP and user (connection_attempts), what the rate limit counts across backend
// processes.
//
// Part of session_store (session_store.hpp); dispatch::rate_limiter takes this slice.
// Thread-safe and blocking; members return a failure instead of throwing.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/store/error.hpp"
#include "apigw/store/records.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

namespace apigw::store {

// attempt_repository: connection_attempts (see the file comment).
class attempt_repository {
 public:
  virtual ~attempt_repository() = default;

  // record_attempt: logs one $connect attempt from `ip` (and `user` when known) at now, successful
  // or not. invalid_argument for an empty ip.
  virtual result<void> record_attempt(std::string_view ip, std::optional<user_id> user, bool successful) = 0;
  // count_attempts_since: the attempts (successful or not) at or after `since` from `ip` and, when
  // given, by `user`.
  virtual result<attempt_counts> count_attempts_since(std::string_view ip, std::optional<user_id> user,
                                                      clock::time_point since) = 0;
  // delete_attempts_older_than: deletes attempts before `cutoff`. Returns how many were deleted.
  virtual result<std::size_t> delete_attempts_older_than(clock::time_point cutoff) = 0;
};

}  // namespace apigw::store
