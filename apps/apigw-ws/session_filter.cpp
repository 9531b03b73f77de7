// Session selection options.
#include "session_filter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace apigw::cli {

result<store::user_id> resolve_user(store::session_store& st, const std::string& user) {
  std::int64_t id = 0;
  const auto* end = user.data() + user.size();
  auto [p, ec] = std::from_chars(user.data(), end, id);
  if (ec == std::errc{} && p == end && !user.empty()) return id;
  return st.find_user_id(user);
}

void session_filter::add_to(CLI::App& cmd, bool require_target) {
  auto* group = cmd.add_option_group("target", "Which sessions");
  group->add_option("--session", session, "One stored session, by its id");
  group->add_option("--connection", connection, "One stored session, by its connection id");
  group->add_option("--user", user, "Every session of this user (an id, or a name in the built-in user store)");
  group->add_option("--channel", channel, "Every session in this channel");
  group->add_flag("--all", all, "Every session");
  if (require_target) {
    group->require_option(1);
  } else {
    group->require_option(0, 1);
  }
  cmd.add_option("--gateway", gateway, "Only sessions of this gateway (by name)");
}

result<store::session_query> session_filter::query(store::session_store& st) const {
  store::session_query q;
  if (session) q = q.by_id(*session);
  if (connection) q = q.by_connection_id(*connection);
  if (user) {
    auto id = resolve_user(st, *user);
    if (!id) return id.error();
    q = q.for_user(*id);
  }
  if (channel) q = q.in_channel(*channel);
  if (gateway) {
    auto all_gateways = st.list_gateways();
    if (!all_gateways) return all_gateways.error();
    auto it = std::find_if(all_gateways->begin(), all_gateways->end(),
                           [&](const store::gateway& g) { return g.name == *gateway; });
    if (it == all_gateways->end()) {
      return failure{store::error::not_found, fmt::format("no gateway named \"{}\"", *gateway)};
    }
    q = q.for_gateway(it->id);
  }
  return q;
}

}  // namespace apigw::cli
