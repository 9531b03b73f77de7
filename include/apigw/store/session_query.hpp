// apigw/store/session_query.hpp: which sessions an operation is about, as a composable value.
//
//   auto q = session_query{}.connected_only().in_channel("general").for_gateway(2);
//   store.count(q);  store.page(q, after_id, 1000);
//
// Every filter narrows the set (they are ANDed); the empty query means every session. Each builder
// returns a modified copy, so a query can be kept as a base and refined in several directions. The
// store turns a query into one SQL statement whose filters are served by indexes (see
// docs/design/store.md).
#pragma once

#include "apigw/store/records.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace apigw::store {

// session_query: a filter over websocket_sessions.
class session_query {
 public:
  // by_id: only the session with this id.
  [[nodiscard]] session_query by_id(session_id id) const;
  // by_connection_id: only the session with this connection id.
  [[nodiscard]] session_query by_connection_id(std::string_view connection_id) const;
  // connected_only: only sessions whose connection is open (the usual target of a send).
  [[nodiscard]] session_query connected_only() const;
  // disconnected_only: only sessions that have been marked disconnected.
  [[nodiscard]] session_query disconnected_only() const;
  // in_channel: only sessions that joined `channel`.
  [[nodiscard]] session_query in_channel(std::string_view channel) const;
  // for_user: only sessions of this user.
  [[nodiscard]] session_query for_user(user_id user) const;
  // for_gateway: only sessions owned by this gateway.
  [[nodiscard]] session_query for_gateway(gateway_id gateway) const;
  // newest_first: pages run from the highest id down (the most recent sessions first, as an operator
  // browsing them expects); not a filter, so count() ignores it. Keyset pages still work: pass the
  // last id of one page as the cursor of the next, and the store reads ids below it.
  [[nodiscard]] session_query newest_first() const;

  // The filters, for the store and for logs. Empty optionals mean "any".
  const std::optional<session_id>& id() const noexcept { return id_; }
  const std::optional<std::string>& connection_id() const noexcept { return connection_id_; }
  const std::optional<bool>& connected() const noexcept { return connected_; }
  const std::optional<std::string>& channel() const noexcept { return channel_; }
  const std::optional<user_id>& user() const noexcept { return user_; }
  const std::optional<gateway_id>& gateway() const noexcept { return gateway_; }
  bool is_newest_first() const noexcept { return newest_first_; }

  // describe: a short human-readable form, e.g. "connected, channel 'general', user 7" ("all sessions"
  // for the empty query).
  std::string describe() const;

  friend bool operator==(const session_query&, const session_query&) = default;

 private:
  std::optional<session_id> id_;
  std::optional<std::string> connection_id_;
  std::optional<bool> connected_;
  std::optional<std::string> channel_;
  std::optional<user_id> user_;
  std::optional<gateway_id> gateway_;
  bool newest_first_ = false;
};

}  // namespace apigw::store
