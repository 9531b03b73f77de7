// session_query: the builder methods and the human-readable description.
#include "apigw/store/session_query.hpp"

#include <fmt/format.h>

#include <vector>

namespace apigw::store {

session_query session_query::by_id(session_id id) const {
  auto q = *this;
  q.id_ = id;
  return q;
}

session_query session_query::by_connection_id(std::string_view connection_id) const {
  auto q = *this;
  q.connection_id_ = std::string{connection_id};
  return q;
}

session_query session_query::connected_only() const {
  auto q = *this;
  q.connected_ = true;
  return q;
}

session_query session_query::disconnected_only() const {
  auto q = *this;
  q.connected_ = false;
  return q;
}

session_query session_query::in_channel(std::string_view channel) const {
  auto q = *this;
  q.channel_ = std::string{channel};
  return q;
}

session_query session_query::for_user(user_id user) const {
  auto q = *this;
  q.user_ = user;
  return q;
}

session_query session_query::for_gateway(gateway_id gateway) const {
  auto q = *this;
  q.gateway_ = gateway;
  return q;
}

session_query session_query::newest_first() const {
  auto q = *this;
  q.newest_first_ = true;
  return q;
}

std::string session_query::describe() const {
  std::vector<std::string> parts;
  if (connected_) parts.emplace_back(*connected_ ? "connected" : "disconnected");
  if (id_) parts.push_back(fmt::format("id {}", *id_));
  if (connection_id_) parts.push_back(fmt::format("connection '{}'", *connection_id_));
  if (channel_) parts.push_back(fmt::format("channel '{}'", *channel_));
  if (user_) parts.push_back(fmt::format("user {}", *user_));
  if (gateway_) parts.push_back(fmt::format("gateway {}", *gateway_));
  const std::string what = parts.empty() ? "all sessions" : fmt::format("{}", fmt::join(parts, ", "));
  return newest_first_ ? what + ", newest first" : what;
}

}  // namespace apigw::store
