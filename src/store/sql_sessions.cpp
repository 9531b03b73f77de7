// The sessions slice of the SQL store: create, look up, touch, mark gone or disconnected, count
// and page (keyset). Each operation is one statement, except a create with channels, which runs in
// one transaction rolled back on any failure.
#include "store/sql_store.hpp"

#include "store/sql_common.hpp"

#include <fmt/format.h>

namespace apigw::store::detail {

session read_session(const rows& r, std::size_t i) {
  session s;
  s.id = cell_int(r, i, 0);
  s.connection_id = cell_text(r, i, 1);
  s.user = cell_opt_int(r, i, 2);
  s.connected = cell_bool(r, i, 3);
  s.gateway = cell_opt_int(r, i, 4);
  s.request_count = cell_int(r, i, 5);
  s.created_at = from_unix_millis(cell_int(r, i, 6));
  s.updated_at = from_unix_millis(cell_int(r, i, 7));
  s.last_seen_at = from_unix_millis(cell_int(r, i, 8));
  return s;
}

result<session> sql_store::create_session(std::string_view connection_id, std::optional<user_id> user,
                                          std::optional<gateway_id> gateway, std::span<const std::string> channels) {
  if (auto r = check_connection_id(connection_id); !r) return r.error();
  for (const auto& ch : channels) {
    if (auto r = check_channel(ch); !r) return r.error();
  }
  const auto now = unix_millis(clock_.now());
  auto insert = [&](connection& c) -> result<session> {
    const param params[] = {std::string{connection_id}, optional_param(user), optional_param(gateway), now};
    auto r = c.exec(sql::insert_session, params);
    if (!r) {
      if (r.error() == error::constraint_violation && gateway) {
        return failure{error::constraint_violation,
                       fmt::format("cannot create session '{}': gateway {} does not exist", connection_id, *gateway)};
      }
      return r.error();
    }
    if (r->empty()) {
      return failure{error::duplicate_connection_id,
                     fmt::format("connection id '{}' is already in use; the existing session was kept", connection_id)};
    }
    auto created = read_session(*r, 0);
    for (const auto& ch : channels) {
      const param channel_params[] = {created.id, ch, now};
      if (auto joined = c.exec(sql::insert_channel, channel_params); !joined) return joined.error();
    }
    return created;
  };
  return with_connection(*db_, [&](connection& c) -> result<session> {
    if (channels.empty()) return insert(c);  // one statement: atomic without a transaction
    return in_transaction(c, [&] { return insert(c); });
  });
}

result<session> sql_store::get_session(session_id id) {
  return with_connection(*db_, [&](connection& c) -> result<session> {
    const param params[] = {id};
    auto r = c.exec(sql::session_by_id, params);
    if (!r) return r.error();
    if (r->empty()) return failure{error::not_found, fmt::format("no session with id {}", id)};
    return read_session(*r, 0);
  });
}

result<session> sql_store::find_session(std::string_view connection_id) {
  return with_connection(*db_, [&](connection& c) -> result<session> {
    const param params[] = {std::string{connection_id}};
    auto r = c.exec(sql::session_by_connection_id, params);
    if (!r) return r.error();
    if (r->empty()) return session_not_found(connection_id);
    return read_session(*r, 0);
  });
}

result<session> sql_store::touch(std::string_view connection_id) {
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<session> {
    const param params[] = {std::string{connection_id}, now};
    auto r = c.exec(sql::touch, params);
    if (!r) return r.error();
    if (r->empty()) return session_not_found(connection_id);
    return read_session(*r, 0);
  });
}

result<std::size_t> sql_store::mark_disconnected(std::span<const std::string> connection_ids) {
  if (connection_ids.empty()) return std::size_t{0};
  const auto st = mark_disconnected_statement(db_->kind(), connection_ids, unix_millis(clock_.now()));
  return with_connection(*db_, [&](connection& c) -> result<std::size_t> {
    auto r = c.exec(st.sql, st.params);
    if (!r) return r.error();
    return static_cast<std::size_t>(r->affected);
  });
}

result<std::size_t> sql_store::mark_gone(std::span<const std::string> connection_ids,
                                         clock::time_point created_before) {
  if (connection_ids.empty()) return std::size_t{0};
  const auto st =
      mark_disconnected_statement(db_->kind(), connection_ids, unix_millis(clock_.now()), unix_millis(created_before));
  return with_connection(*db_, [&](connection& c) -> result<std::size_t> {
    auto r = c.exec(st.sql, st.params);
    if (!r) return r.error();
    return static_cast<std::size_t>(r->affected);
  });
}

result<std::size_t> sql_store::delete_disconnected_older_than(clock::time_point cutoff) {
  return delete_older_than(*db_, sql::delete_disconnected, cutoff);
}

result<std::int64_t> sql_store::count(const session_query& q) {
  const auto st = count_statement(q);
  return with_connection(*db_, [&](connection& c) -> result<std::int64_t> {
    auto r = c.exec(st.sql, st.params);
    if (!r) return r.error();
    return cell_int(*r, 0, 0);
  });
}

result<std::vector<session>> sql_store::page(const session_query& q, session_id after_id, std::size_t limit) {
  if (limit == 0 || limit > k_max_page_size) {
    return failure{error::invalid_argument,
                   fmt::format("page size {} is out of range: expected 1-{}", limit, k_max_page_size)};
  }
  const auto st = page_statement(q, after_id, limit);
  return with_connection(*db_, [&](connection& c) -> result<std::vector<session>> {
    auto r = c.exec(st.sql, st.params);
    if (!r) return r.error();
    std::vector<session> sessions;
    sessions.reserve(r->size());
    for (std::size_t i = 0; i < r->size(); ++i) sessions.push_back(read_session(*r, i));
    return sessions;
  });
}

}  // namespace apigw::store::detail
