// One-time connect tokens: issued hashed and bound to a hashed session key, consumed atomically.
#include "apigw/dispatch/tokens.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/dispatch/error.hpp"
#include "apigw/sigv4/hash.hpp"

#include <fmt/format.h>

namespace apigw::dispatch {

using sigv4::sha256_hex;

result<issued_token> token_service::issue(store::user_id user, std::string_view session_key) {
  if (session_key.empty()) return failure{error::not_authenticated, "a token needs a browser session"};
  const auto now = clock_.now();
  if (options_.max_issued_per_minute > 0) {
    auto issued = store_.count_tokens_since(user, now - std::chrono::minutes{1});
    if (!issued) return issued.error();
    if (*issued >= static_cast<std::int64_t>(options_.max_issued_per_minute)) {
      return failure{error::rate_limited,
                     fmt::format("user {} was issued {} tokens in the last minute", user, *issued)};
    }
  }
  auto token = new_token_hex();
  if (!token) return token.error();
  auto token_hash = sha256_hex(*token);
  auto key_hash = sha256_hex(session_key);
  if (!token_hash) return token_hash.error();
  if (!key_hash) return key_hash.error();
  if (auto stored = store_.insert_token(*token_hash, user, *key_hash); !stored) return stored.error();
  return issued_token{std::move(*token), static_cast<std::int64_t>(options_.lifetime.count())};
}

result<store::user_id> token_service::consume(std::string_view token, std::string_view session_key) {
  if (!is_token_hex(token) || session_key.empty()) return failure{error::invalid_token};
  auto token_hash = sha256_hex(token);
  auto key_hash = sha256_hex(session_key);
  if (!token_hash) return token_hash.error();
  if (!key_hash) return key_hash.error();
  auto user = store_.consume_token(*token_hash, *key_hash, clock_.now() - options_.lifetime);
  if (!user) {
    if (user.error() == condition::not_found) return failure{error::invalid_token};
    return user.error();
  }
  return *user;
}

}  // namespace apigw::dispatch
