// apigw/dispatch/view.hpp: what an application writes: a `view` with named handlers, and the
// `request_context` each handler receives.
//
//   class chat_view : public apigw::view {
//    public:
//     chat_view() { handle("chat_message", &chat_view::chat_message); }
//     apigw::response chat_message(apigw::request_context& ctx);
//   };
//
// A message's handler is chosen by the body key `handler`, then `action` (names configurable in
// security_options). Only registered names are reachable: an unknown name is answered 400
// "Unknown handler" (never silently run as `default`, as the reference system did). A body that
// names no handler runs the `default` handler when there is one (what API Gateway's $default route
// means), else gets 400 "Invalid request format (1)". Handlers are plain synchronous functions run
// on the backend's bounded worker pool; sending from them returns at once (see delivery.hpp).
#pragma once

#include "apigw/core/json.hpp"
#include "apigw/dispatch/auth.hpp"
#include "apigw/dispatch/delivery.hpp"
#include "apigw/dispatch/http.hpp"
#include "apigw/dispatch/request_services.hpp"
#include "apigw/store/records.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::dispatch {

class backend;
class request_context;

// handler_fn: one handler. Its response goes back to API Gateway (which relays it to the client
// only on two-way routes); replies to the client go through ctx.reply() / ctx.sessions().
using handler_fn = std::function<response(request_context&)>;

// channel_policy: may `who` be in `channel`? Asked on connect and by the built-in channel handlers.
using channel_policy = std::function<bool(const identity& who, std::string_view channel)>;

// connect_check: the application's own $connect check. Returns a refusal message (sent as the 400
// body) or nullopt to accept.
using connect_check = std::function<std::optional<std::string>(const request_context& ctx)>;

// view: see the file comment. Configure it before the backend serves it; afterwards it is only read.
class view {
 public:
  virtual ~view() = default;

  // handle: registers `name` as a handler, callable by clients naming it; `rule` is checked
  // (in addition to the view's) before it runs. Registering a name again replaces it.
  void handle(std::string name, handler_fn fn, permission_rule rule = {});
  // handle: the same for a member function of the derived view.
  template <class V>
  void handle(std::string name, response (V::*fn)(request_context&), permission_rule rule = {}) {
    handle(
        std::move(name), [this, fn](request_context& ctx) { return (static_cast<V*>(this)->*fn)(ctx); },
        std::move(rule));
  }
  // on_connect: runs after every $connect check passed and the session was created. Its non-2xx
  // response refuses the connection (the session is then marked disconnected).
  void on_connect(handler_fn fn) { on_connect_ = std::move(fn); }
  // on_disconnect: runs after the session was marked disconnected.
  void on_disconnect(handler_fn fn) { on_disconnect_ = std::move(fn); }
  // on_default: the handler for a body that names no handler.
  void on_default(handler_fn fn) { on_default_ = std::move(fn); }

  // require: permissions for every route of the view except $disconnect (a denied $connect refuses
  // the connection; a denied message gets 403 "Permission Denied").
  void require(permission_rule rule) { rule_ = std::move(rule); }
  // authorize_channels: the channel authorization hook (default: every channel allowed).
  void authorize_channels(channel_policy policy) { channel_policy_ = std::move(policy); }
  // check_connections: the application's own $connect check.
  void check_connections(connect_check check) { connect_check_ = std::move(check); }
  // enable_channel_handlers: registers the built-in join_channel, leave_channel and change_channel
  // handlers (body {"handler": "join_channel", "channel": "name"}), each validated and authorized.
  void enable_channel_handlers();

  // entry: one registered handler and the permissions it needs.
  struct entry {
    handler_fn fn;
    permission_rule rule;
  };
  // find: the handler registered as `name`, or null.
  const entry* find(std::string_view name) const;
  // connect_handler / disconnect_handler / default_handler / rule / connection_check: what was
  // registered (an empty function or rule when nothing was).
  const handler_fn& connect_handler() const noexcept { return on_connect_; }
  const handler_fn& disconnect_handler() const noexcept { return on_disconnect_; }
  const handler_fn& default_handler() const noexcept { return on_default_; }
  const permission_rule& rule() const noexcept { return rule_; }
  // channel_allowed: the hook's answer (true without a hook).
  bool channel_allowed(const identity& who, std::string_view channel) const;
  const connect_check& connection_check() const noexcept { return connect_check_; }
  // handler_names: every registered name, sorted.
  std::vector<std::string> handler_names() const;

 private:
  std::map<std::string, entry, std::less<>> handlers_;
  handler_fn on_connect_;
  handler_fn on_disconnect_;
  handler_fn on_default_;
  permission_rule rule_;
  channel_policy channel_policy_;
  connect_check connect_check_;
};

// request_context: one integration request as a handler sees it. Lives for one handler call.
class request_context {
 public:
  // request_context: made by `app` (which serves the request through `services`, usually itself).
  request_context(backend& app, request_services& services, const request& req, std::string route,
                  std::string connection_id);

  // raw: the request as received.
  const request& raw() const noexcept { return req_; }
  // route: "connect", "disconnect", "default" or a custom route name (the last path segment).
  const std::string& route() const noexcept { return route_; }
  // connection_id: the connectionId header.
  const std::string& connection_id() const noexcept { return connection_id_; }
  // header: a request header (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const noexcept { return req_.header_value(name); }
  // query: a decoded query parameter ($connect carries the client's query string), or nullopt.
  std::optional<std::string> query(std::string_view name) const { return req_.query_value(name); }
  // body: the message body (a JSON object; empty on connect and disconnect).
  const json::object& body() const noexcept { return body_; }
  // handler_name: the handler the body named (empty for connect, disconnect and default).
  const std::string& handler_name() const noexcept { return handler_; }
  // user: who sent the request (anonymous when nobody).
  const identity& user() const noexcept { return user_; }
  // session: the connection's session (on $connect: after it was created).
  const std::optional<store::session>& session() const noexcept { return session_; }
  // gateway: the registered gateway the request came through.
  const std::optional<store::gateway>& gateway() const noexcept { return gateway_; }
  // client_ip: the client address chosen from X-Forwarded-For.
  const std::string& client_ip() const noexcept { return client_ip_; }

  // reply: sends `message` to this connection; returns at once (see send_handle).
  send_handle reply(const json::value& message) const;
  // sessions: every session, to narrow and send to (ctx.sessions().in_channel("general")...).
  session_set sessions() const;
  // channels: this connection's channels; the store's failure otherwise.
  result<std::vector<std::string>> channels() const;
  // app: the backend serving the request (store, tokens, presence).
  backend& app() const noexcept { return app_; }
  // services: the parts of the backend the context itself uses (channels, delivery, log).
  request_services& services() const noexcept { return services_; }

 private:
  friend class backend;
  backend& app_;
  request_services& services_;
  const request& req_;
  std::string route_;
  std::string connection_id_;
  json::object body_;
  std::string handler_;
  identity user_;
  std::optional<store::session> session_;
  std::optional<store::gateway> gateway_;
  std::string client_ip_;
};

}  // namespace apigw::dispatch

namespace apigw {
using dispatch::request_context;
using dispatch::response;
using dispatch::view;
}  // namespace apigw
