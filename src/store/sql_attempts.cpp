// The connection-attempts slice of the SQL store: what the $connect rate limit counts.
#include "store/sql_store.hpp"

#include "store/sql_common.hpp"

#include <fmt/format.h>

namespace apigw::store::detail {

result<void> sql_store::record_attempt(std::string_view ip, std::optional<user_id> user, bool successful) {
  if (ip.empty()) return failure{error::invalid_argument, "a connection attempt needs an IP address"};
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<void> {
    const param params[] = {std::string{ip}, optional_param(user), now, successful};
    auto r = c.exec(sql::insert_attempt, params);
    if (!r) return r.error();
    return ok();
  });
}

result<attempt_counts> sql_store::count_attempts_since(std::string_view ip, std::optional<user_id> user,
                                                       clock::time_point since) {
  const auto since_ms = unix_millis(since);
  return with_connection(*db_, [&](connection& c) -> result<attempt_counts> {
    attempt_counts counts;
    const param by_ip[] = {std::string{ip}, since_ms};
    auto r = c.exec(sql::count_attempts_ip, by_ip);
    if (!r) return r.error();
    counts.by_ip = cell_int(*r, 0, 0);
    if (user) {
      const param by_user[] = {*user, since_ms};
      auto u = c.exec(sql::count_attempts_user, by_user);
      if (!u) return u.error();
      counts.by_user = cell_int(*u, 0, 0);
    }
    return counts;
  });
}

result<std::size_t> sql_store::delete_attempts_older_than(clock::time_point cutoff) {
  return delete_older_than(*db_, sql::delete_attempts, cutoff);
}

}  // namespace apigw::store::detail
