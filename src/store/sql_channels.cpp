// The channels slice of the SQL store: join, leave and list a session's channels, each one
// statement (plus a lookup that tells "already a member" from "no such session").
#include "store/sql_store.hpp"

#include "store/sql_common.hpp"

#include <fmt/format.h>

namespace apigw::store::detail {

namespace {

// changed_or_missing: true when the statement changed a row; otherwise false when the session
// exists (already a member, or not one) and session_not_found when there is no such session.
result<bool> changed_or_missing(connection& c, std::int64_t affected, std::string_view connection_id) {
  if (affected > 0) return true;
  const param lookup[] = {std::string{connection_id}};
  auto exists = c.exec(sql::session_exists, lookup);
  if (!exists) return exists.error();
  if (exists->empty()) return session_not_found(connection_id);
  return false;
}

}  // namespace

result<bool> sql_store::join_channel(std::string_view connection_id, std::string_view channel) {
  if (auto r = check_channel(channel); !r) return r.error();
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<bool> {
    const param params[] = {std::string{connection_id}, std::string{channel}, now};
    auto r = c.exec(sql::join_channel, params);
    if (!r) return r.error();
    return changed_or_missing(c, r->affected, connection_id);
  });
}

result<bool> sql_store::leave_channel(std::string_view connection_id, std::string_view channel) {
  return with_connection(*db_, [&](connection& c) -> result<bool> {
    const param params[] = {std::string{connection_id}, std::string{channel}};
    auto r = c.exec(sql::leave_channel, params);
    if (!r) return r.error();
    return changed_or_missing(c, r->affected, connection_id);
  });
}

result<std::vector<std::string>> sql_store::channels_of(std::string_view connection_id) {
  return with_connection(*db_, [&](connection& c) -> result<std::vector<std::string>> {
    const param params[] = {std::string{connection_id}};
    auto r = c.exec(sql::channels_of, params);
    if (!r) return r.error();
    if (r->empty()) return session_not_found(connection_id);
    std::vector<std::string> channels;
    for (std::size_t i = 0; i < r->size(); ++i) {
      if (r->at(i, 1)) channels.push_back(*r->at(i, 1));
    }
    return channels;
  });
}

}  // namespace apigw::store::detail
