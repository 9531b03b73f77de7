// apigw/dispatch/tokens.hpp: one-time connect tokens (the `ws_token` query parameter on $connect).
//
// A token is 64 lowercase hex characters (256 bits from the CSPRNG), handed to an authenticated
// browser by the token endpoint and used once to open a WebSocket. The store keeps only the
// SHA-256 of the token and of the user's session key, so neither a database dump nor an admin
// screen reveals anything usable. Consumption is one conditional UPDATE in the store: of two
// concurrent connects with one token exactly one wins. The configured lifetime is the one enforced
// (the reference system advertised one and enforced a hard-coded 60 s).
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/store/records.hpp"
#include "apigw/store/token_repository.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace apigw::dispatch {

// token_options: lifetime and the per-user issue limit.
struct token_options {
  std::chrono::seconds lifetime{60};
  std::size_t max_issued_per_minute = 20;  // 0: unlimited
};

// issued_token: what the token endpoint returns: {"token": ..., "expires_in": ...}.
struct issued_token {
  std::string token;
  std::int64_t expires_in = 0;
};

// token_service: issues and consumes tokens in the store's tokens slice. Thread-safe (the store is).
class token_service {
 public:
  token_service(store::token_repository& store, const clock& clk, token_options options = {}) noexcept
      : store_(store), clock_(clk), options_(options) {}

  // issue: a new token for `user`, bound to `session_key` (the browser session the token endpoint
  // saw). Fails with not_authenticated for an empty session key, rate_limited when the user was
  // issued max_issued_per_minute tokens in the last minute, or the store's failure.
  result<issued_token> issue(store::user_id user, std::string_view session_key);

  // consume: the user of `token` when it is well-formed, unused, bound to `session_key` and younger
  // than the lifetime at the clock's now; marks it used. Fails with invalid_token otherwise (one
  // code for every reason, so a prober learns nothing), or the store's failure (unavailable).
  result<store::user_id> consume(std::string_view token, std::string_view session_key);

  const token_options& options() const noexcept { return options_; }

 private:
  store::token_repository& store_;
  const clock& clock_;
  token_options options_;
};

}  // namespace apigw::dispatch
