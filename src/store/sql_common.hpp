// store/sql_common.hpp (private): what every part of the SQL store shares: leasing a connection,
// running a transaction, and the argument checks and messages more than one slice uses.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/ids.hpp"
#include "apigw/core/json.hpp"
#include "apigw/store/error.hpp"
#include "apigw/store/records.hpp"
#include "store/database.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace apigw::store::detail {

inline param optional_param(const std::optional<std::int64_t>& v) {
  return v ? param{*v} : param{nullptr};
}

inline result<void> check_connection_id(std::string_view connection_id) {
  if (!is_valid_connection_id(connection_id)) {
    return failure{error::invalid_argument,
                   fmt::format("invalid connection id '{}': expected 1-{} characters of [A-Za-z0-9_=+/-]",
                               connection_id.substr(0, k_max_connection_id_length), k_max_connection_id_length)};
  }
  return ok();
}

inline result<void> check_channel(std::string_view channel) {
  if (channel.empty() || channel.size() > k_max_channel_length || !is_valid_utf8(channel)) {
    return failure{error::invalid_argument, fmt::format("invalid channel name ({} bytes): expected 1-{} bytes of UTF-8",
                                                        channel.size(), k_max_channel_length)};
  }
  return ok();
}

// read_session: row `i` of a result whose columns are sql::session_columns (sql_sessions.cpp).
session read_session(const rows& r, std::size_t i);

inline failure session_not_found(std::string_view connection_id) {
  return {error::not_found, fmt::format("no session with connection id '{}'", connection_id)};
}

// with_connection: runs `f(connection&)` on a leased connection.
template <class F>
auto with_connection(database& db, F&& f) -> std::invoke_result_t<F, connection&> {
  auto lease = db.acquire();
  if (!lease) return lease.error();
  return std::forward<F>(f)(**lease);
}

// delete_older_than: runs `sql` (a DELETE taking the cutoff in unix milliseconds as $1) and
// returns how many rows it removed. The pruning members of every slice are this.
inline result<std::size_t> delete_older_than(database& db, std::string_view sql, clock::time_point cutoff) {
  return with_connection(db, [&](connection& c) -> result<std::size_t> {
    const param params[] = {unix_millis(cutoff)};
    auto r = c.exec(sql, params);
    if (!r) return r.error();
    return static_cast<std::size_t>(r->affected);
  });
}

// in_transaction: runs `f()` between begin and commit; rolls back when `f` or the commit fails.
template <class F>
auto in_transaction(connection& c, F&& f) -> std::invoke_result_t<F> {
  if (auto b = c.begin(); !b) return b.error();
  auto r = std::forward<F>(f)();
  if (!r) {
    c.rollback();
    return r;
  }
  if (auto committed = c.commit(); !committed) {
    c.rollback();
    return committed.error();
  }
  return r;
}

}  // namespace apigw::store::detail
