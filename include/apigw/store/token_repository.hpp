// apigw/store/token_repository.hpp: the tokens slice of the store: one-time connect tokens
// (websocket_tokens), kept only as hashes of the token and of the browser session's key.
//
// Part of session_store (session_store.hpp); dispatch::token_service takes this slice.
// Thread-safe and blocking; members return a failure instead of throwing.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/store/error.hpp"
#include "apigw/store/records.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace apigw::store {

// token_repository: websocket_tokens (see the file comment).
class token_repository {
 public:
  virtual ~token_repository() = default;

  // insert_token: records a one-time connect token by the hash of its value, for `user`, bound to
  // the hash of the user's session key (created_at now, unused). duplicate_key (conflict) when the
  // hash exists; invalid_argument for an empty hash.
  virtual result<void> insert_token(std::string_view token_hash, user_id user, std::string_view session_key_hash) = 0;
  // consume_token: marks the token with this hash used, in one statement, if it is unused, bound to
  // `session_key_hash` and created at or after `not_before`; returns its user. Of any number of
  // concurrent calls with one token, exactly one succeeds. not_found when there is no such usable
  // token (unknown, used, expired or bound to another session; the caller learns nothing more).
  virtual result<user_id> consume_token(std::string_view token_hash, std::string_view session_key_hash,
                                        clock::time_point not_before) = 0;
  // count_tokens_since: how many tokens `user` was issued at or after `since` (the issue rate limit).
  virtual result<std::int64_t> count_tokens_since(user_id user, clock::time_point since) = 0;
  // delete_tokens_older_than: deletes connect tokens (used or not) created before `cutoff`. Returns
  // how many were deleted.
  virtual result<std::size_t> delete_tokens_older_than(clock::time_point cutoff) = 0;
};

}  // namespace apigw::store
