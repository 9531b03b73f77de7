// Views (handler registration, the built-in channel handlers) and the request context.
#include "apigw/dispatch/view.hpp"

#include "apigw/dispatch/checks.hpp"

namespace apigw::dispatch {
namespace {

// channel_argument: the body's "channel" when it is a valid channel name.
std::optional<std::string> channel_argument(const request_context& ctx) {
  const auto ch = get_string(ctx.body(), "channel");
  if (!ch || !is_valid_channel_name(*ch)) return std::nullopt;
  return std::string{*ch};
}

response store_failure(const request_context& ctx, const failure& f) {
  ctx.services().log("channel handler: " + f.message);
  return response::text(503, "Service Unavailable");
}

}  // namespace

void view::handle(std::string name, handler_fn fn, permission_rule rule) {
  handlers_.insert_or_assign(std::move(name), entry{std::move(fn), std::move(rule)});
}

const view::entry* view::find(std::string_view name) const {
  const auto it = handlers_.find(name);
  return it == handlers_.end() ? nullptr : &it->second;
}

bool view::channel_allowed(const identity& who, std::string_view channel) const {
  return !channel_policy_ || channel_policy_(who, channel);
}

std::vector<std::string> view::handler_names() const {
  std::vector<std::string> names;
  for (const auto& [name, e] : handlers_) names.push_back(name);
  return names;
}

void view::enable_channel_handlers() {
  handle("join_channel", [this](request_context& ctx) {
    const auto ch = channel_argument(ctx);
    if (!ch) return response::text(400, "Invalid channel name");
    if (!channel_allowed(ctx.user(), *ch)) return response::text(403, "Permission Denied");
    auto joined = ctx.services().channel_store().join_channel(ctx.connection_id(), *ch);
    if (!joined) return store_failure(ctx, joined.error());
    return response::json(200, json::object{{"channel", *ch}, {"joined", *joined}});
  });
  handle("leave_channel", [](request_context& ctx) {
    const auto ch = channel_argument(ctx);
    if (!ch) return response::text(400, "Invalid channel name");
    auto left = ctx.services().channel_store().leave_channel(ctx.connection_id(), *ch);
    if (!left) return store_failure(ctx, left.error());
    return response::json(200, json::object{{"channel", *ch}, {"left", *left}});
  });
  handle("change_channel", [this](request_context& ctx) {
    const auto ch = channel_argument(ctx);
    if (!ch) return response::text(400, "Invalid channel name");
    if (!channel_allowed(ctx.user(), *ch)) return response::text(403, "Permission Denied");
    auto& st = ctx.services().channel_store();
    auto current = st.channels_of(ctx.connection_id());
    if (!current) return store_failure(ctx, current.error());
    for (const auto& old : *current) {
      if (old == *ch) continue;
      if (auto left = st.leave_channel(ctx.connection_id(), old); !left) return store_failure(ctx, left.error());
    }
    if (auto joined = st.join_channel(ctx.connection_id(), *ch); !joined) return store_failure(ctx, joined.error());
    return response::json(200, json::object{{"channel", *ch}});
  });
}

request_context::request_context(backend& app, request_services& services, const request& req, std::string route,
                                 std::string connection_id)
    : app_(app), services_(services), req_(req), route_(std::move(route)), connection_id_(std::move(connection_id)) {}

send_handle request_context::reply(const json::value& message) const {
  // The gateway that sent the request owns the connection: no store query is needed to reply.
  if (gateway_ && !gateway_->endpoint.empty())
    return services_.out().send_to(connection_id_, gateway_->endpoint, message);
  return services_.out().send(store::session_query{}.by_connection_id(connection_id_), message);
}

session_set request_context::sessions() const {
  return services_.sessions();
}

result<std::vector<std::string>> request_context::channels() const {
  return services_.channel_store().channels_of(connection_id_);
}

}  // namespace apigw::dispatch
