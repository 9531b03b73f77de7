// The tokens slice of the SQL store: one-time connect tokens by hash; consumption is one
// conditional UPDATE, so of concurrent consumers of one token exactly one wins.
#include "store/sql_store.hpp"

#include "store/sql_common.hpp"

#include <fmt/format.h>

namespace apigw::store::detail {

result<void> sql_store::insert_token(std::string_view token_hash, user_id user, std::string_view session_key_hash) {
  if (token_hash.empty() || session_key_hash.empty()) {
    return failure{error::invalid_argument, "a token needs a hash and a session key hash"};
  }
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<void> {
    const param params[] = {std::string{token_hash}, user, std::string{session_key_hash}, now};
    auto r = c.exec(sql::insert_token, params);
    if (!r) return r.error();
    return ok();
  });
}

result<user_id> sql_store::consume_token(std::string_view token_hash, std::string_view session_key_hash,
                                         clock::time_point not_before) {
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<user_id> {
    const param params[] = {std::string{token_hash}, std::string{session_key_hash}, unix_millis(not_before), now};
    auto r = c.exec(sql::consume_token, params);
    if (!r) return r.error();
    if (r->empty()) return failure{error::not_found, "no usable token (unknown, used, expired or another session's)"};
    return cell_int(*r, 0, 0);
  });
}

result<std::int64_t> sql_store::count_tokens_since(user_id user, clock::time_point since) {
  return with_connection(*db_, [&](connection& c) -> result<std::int64_t> {
    const param params[] = {user, unix_millis(since)};
    auto r = c.exec(sql::count_tokens_since, params);
    if (!r) return r.error();
    return cell_int(*r, 0, 0);
  });
}

result<std::size_t> sql_store::delete_tokens_older_than(clock::time_point cutoff) {
  return delete_older_than(*db_, sql::delete_tokens, cutoff);
}

}  // namespace apigw::store::detail
