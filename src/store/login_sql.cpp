// The login_store half of sql_store (apigw/store/login_store.hpp): failed logins and revoked
// sessions, in SQL shared by both databases (schema version 2).
#include "store/sql_store.hpp"

#include <string>

namespace apigw::store::detail {
namespace {

namespace login_sql {
// insert_failure: $1 username, $2 address, $3 now.
constexpr std::string_view insert_failure = "INSERT INTO login_failures (username, address, at) VALUES ($1, $2, $3)";
// prune_failures: $1 cutoff (login_failures_at_idx).
constexpr std::string_view prune_failures = "DELETE FROM login_failures WHERE at < $1";
// failures_of_user / failures_of_address: $1 name or address, $2 since (the (key, at) indexes).
constexpr std::string_view failures_of_user =
    "SELECT COUNT(*), COALESCE(MAX(at), 0) FROM login_failures WHERE username = $1 AND at >= $2";
constexpr std::string_view failures_of_address =
    "SELECT COUNT(*), COALESCE(MAX(at), 0) FROM login_failures WHERE address = $1 AND at >= $2";
// clear_failures: $1 username.
constexpr std::string_view clear_failures = "DELETE FROM login_failures WHERE username = $1";
// insert_revocation: $1 session key hash, $2 expiry. A second logout of one session changes nothing.
constexpr std::string_view insert_revocation =
    "INSERT INTO revoked_sessions (session_key_hash, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING";
// delete_session_tokens: $1 session key hash: the tokens a logged-out page fetched but did not use.
constexpr std::string_view delete_session_tokens =
    "DELETE FROM websocket_tokens WHERE session_key_hash = $1 AND used_at IS NULL";
// prune_revocations: $1 now: revocations of cookies that have expired by themselves.
constexpr std::string_view prune_revocations = "DELETE FROM revoked_sessions WHERE expires_at < $1";
// revocation_of: $1 session key hash.
constexpr std::string_view revocation_of = "SELECT 1 FROM revoked_sessions WHERE session_key_hash = $1";
}  // namespace login_sql

}  // namespace

result<void> sql_store::record_login_failure(std::string_view username, std::string_view address,
                                             clock::time_point prune_before) {
  if (address.empty()) return failure{error::invalid_argument, "a failed login needs a client address"};
  auto lease = db_->acquire();
  if (!lease) return lease.error();
  const param insert[] = {std::string{username}, std::string{address}, unix_millis(clock_.now())};
  if (auto r = (*lease)->exec(login_sql::insert_failure, insert); !r) return r.error();
  const param prune[] = {unix_millis(prune_before)};
  if (auto r = (*lease)->exec(login_sql::prune_failures, prune); !r) return r.error();
  return ok();
}

result<login_failure_counts> sql_store::login_failures_since(std::string_view username, std::string_view address,
                                                             clock::time_point since) {
  auto lease = db_->acquire();
  if (!lease) return lease.error();
  const auto since_ms = unix_millis(since);
  login_failure_counts counts;
  const param by_user[] = {std::string{username}, since_ms};
  auto u = (*lease)->exec(login_sql::failures_of_user, by_user);
  if (!u) return u.error();
  counts.by_user = cell_int(*u, 0, 0);
  counts.last_by_user = from_unix_millis(cell_int(*u, 0, 1));
  const param by_address[] = {std::string{address}, since_ms};
  auto a = (*lease)->exec(login_sql::failures_of_address, by_address);
  if (!a) return a.error();
  counts.by_address = cell_int(*a, 0, 0);
  counts.last_by_address = from_unix_millis(cell_int(*a, 0, 1));
  return counts;
}

result<std::size_t> sql_store::clear_login_failures(std::string_view username) {
  auto lease = db_->acquire();
  if (!lease) return lease.error();
  const param params[] = {std::string{username}};
  auto r = (*lease)->exec(login_sql::clear_failures, params);
  if (!r) return r.error();
  return static_cast<std::size_t>(r->affected);
}

result<void> sql_store::revoke_session(std::string_view session_key_hash, clock::time_point expires_at) {
  if (session_key_hash.empty()) return failure{error::invalid_argument, "revoking a session needs its key hash"};
  auto lease = db_->acquire();
  if (!lease) return lease.error();
  auto& c = **lease;
  // One transaction: the revocation and the token cleanup happen together or not at all.
  if (auto b = c.begin(); !b) return b.error();
  auto run = [&]() -> result<void> {
    const param revoke[] = {std::string{session_key_hash}, unix_millis(expires_at)};
    if (auto r = c.exec(login_sql::insert_revocation, revoke); !r) return r.error();
    const param tokens[] = {std::string{session_key_hash}};
    if (auto r = c.exec(login_sql::delete_session_tokens, tokens); !r) return r.error();
    const param prune[] = {unix_millis(clock_.now())};
    if (auto r = c.exec(login_sql::prune_revocations, prune); !r) return r.error();
    return c.commit();
  };
  auto done = run();
  if (!done) c.rollback();
  return done;
}

result<bool> sql_store::is_session_revoked(std::string_view session_key_hash) {
  auto lease = db_->acquire();
  if (!lease) return lease.error();
  const param params[] = {std::string{session_key_hash}};
  auto r = (*lease)->exec(login_sql::revocation_of, params);
  if (!r) return r.error();
  return !r->empty();
}

}  // namespace apigw::store::detail
