// apigw/dispatch/backend.hpp: the backend: runs the checks of every integration request API
// Gateway sends, picks and runs a view's handler on a bounded worker pool, and owns the pieces the
// handlers use (store, delivery, authenticator, tokens, rate limiter).
//
// Checks on every request, in order (docs/design/dispatch.md lists statuses and bodies):
//   POST only (405); body <= 128 KiB (413); the required headers (400 "Invalid request headers");
//   the gateway's identity: X-Amzn-Apigateway-Api-Id registered in the store (cached) AND, when
//   configured, the shared-secret header compared in constant time (400 "Invalid request headers");
//   the connection id's format (400 "Invalid connection id").
// $connect: rate limit per IP and per user over a sliding window, counting failures (400 "Too many
//   connection attempts"); the connection headers (400 "Missing N headers"); allowed hosts (400
//   "Host is not allowed"); exact origins (400 "Origin is not allowed" / "Host is not in Origin");
//   channel name (400 "Invalid channel name", before the token so a bad name does not burn it);
//   the one-time token (400 "Invalid session" / "Invalid or expired token"); view permissions and
//   the channel hook, for the token's user (403 "Permission Denied"); the application's check (400
//   with its message); then the session is created (409 on a duplicate connection id, overwriting
//   nothing). Every refusal after the rate-limit check is recorded as a failed attempt.
// $disconnect and messages: User-Agent exactly "AmazonAPIGateway_{apiId}" (400 "Unexpected
//   Useragent"). Messages: a JSON object body naming a registered handler (400), the session
//   (404 "Session not found"), permissions (403 "Permission Denied").
// No response body echoes configuration or request headers.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/log.hpp"
#include "apigw/dispatch/auth.hpp"
#include "apigw/dispatch/delivery.hpp"
#include "apigw/dispatch/history.hpp"
#include "apigw/dispatch/http.hpp"
#include "apigw/dispatch/metrics.hpp"
#include "apigw/dispatch/rate_limiter.hpp"
#include "apigw/dispatch/request_services.hpp"
#include "apigw/dispatch/tokens.hpp"
#include "apigw/dispatch/view.hpp"
#include "apigw/store/session_store.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::dispatch {

// security_options: the checks' settings. Defaults are what AWS sends and the reference requires.
struct security_options {
  // Headers every integration request must carry (X-Real-Ip is not one: AWS does not send it).
  std::vector<std::string> required_headers{
      "Host",         "X-Forwarded-For", "X-Forwarded-Proto",       "Content-Length",
      "connectionId", "User-Agent",      "X-Amzn-Apigateway-Api-Id"};
  // Further headers AWS sends; clear this behind tunnels that drop them.
  std::vector<std::string> additional_required_headers{"X-Amzn-Trace-Id", "X-Forwarded-Port"};
  // Headers a $connect must carry (copied from the browser's upgrade request).
  std::vector<std::string> connection_headers{"Cookie", "Origin", "Sec-WebSocket-Extensions", "Sec-WebSocket-Key",
                                              "Sec-WebSocket-Version"};
  // The shared secret the gateway's integration request parameters inject; empty: not checked.
  std::string shared_secret_header = "X-Apigw-Secret";
  std::string shared_secret;
  // Exact origins ("https://app.example.com") allowed on $connect. Empty: the origin's host must
  // equal the Host header (exactly, unlike the reference's substring test) unless
  // check_origin_host is false.
  std::vector<std::string> allowed_origins;
  bool check_origin_host = true;
  // Hosts allowed on $connect: "*", ".example.com" (domain and subdomains) or exact names. Empty:
  // any host.
  std::vector<std::string> allowed_hosts;
  // Require a one-time token (ws_token) on $connect.
  bool use_ws_token = true;
  // How many proxies append to X-Forwarded-For before the backend (1: API Gateway).
  std::size_t trusted_proxy_hops = 1;
  // Body keys naming the handler, in order of precedence.
  std::string handler_key = "handler";
  std::string action_key = "action";
  // Also tell the client (through @connections) when it names an unknown handler.
  bool notify_unknown_handler = false;
};

// backend_options: the backend's settings.
struct backend_options {
  security_options security;
  rate_limit_options rate_limit;
  token_options tokens;
  std::size_t workers = 4;            // handler threads
  std::size_t queue_capacity = 1024;  // requests waiting for a worker; beyond that: 503
  std::chrono::seconds gateway_cache_ttl{60};
  std::chrono::seconds unknown_gateway_cache_ttl{5};
  // log: the backend's log (apigw/core/log.hpp; fields in docs/design/logging.md): an access line
  // per integration request (trace_id from X-Amzn-Trace-Id, request_id, connection_id, route,
  // handler, status, duration_ms; info, or warn for a 5xx) and an error line with the same fields
  // for what the response body does not say (handler exceptions, store failures). Default: logfmt
  // text at info on stderr. A plain callable taking the line still works (text at info).
  logging::logger log = logging::logger::standard_error();
  // request_id_header: the header the request id is read from for the log. API Gateway sends none
  // unless an integration maps one (`integration.request.header.X-Request-Id` = `context.requestId`,
  // as the local gateway's dev API does); without it the field is empty. Only ever logged.
  std::string request_id_header = "X-Request-Id";
  // history: which channels keep their published messages, and how many (history.hpp). Every
  // backend answers the recovery handler (k_recover_handler) for them.
  history_options history;
};

// presence_info: who is in a channel now.
struct presence_info {
  std::int64_t sessions = 0;            // connected sessions in the channel
  std::vector<store::user_id> users;    // distinct users among them, sorted
  std::int64_t anonymous_sessions = 0;  // sessions without a user
};

// backend: see the file comment. Thread-safe; views must outlive it. It is the request_services of
// every request_context it makes.
class backend : public request_services {
 public:
  // backend: `store`, `out`, `auth` and `clk` must outlive it. Starts the worker threads.
  backend(store::session_store& store, delivery& out, authenticator& auth, const clock& clk,
          backend_options options = {});
  ~backend() override;
  backend(const backend&) = delete;
  backend& operator=(const backend&) = delete;

  // handle: runs every check and the handler for `req` on `route` of `v`, on the calling thread.
  // Never throws: handler exceptions become 500 "Internal Server Error" (and a log line).
  response handle(view& v, std::string_view route, const request& req);
  // submit: queues handle() on the worker pool; `done` is called on the worker with the response.
  // Fails with overloaded when the queue is full and shutting_down after stop() (the caller answers
  // 503); `done` is then not called.
  result<void> submit(view& v, std::string route, request req, std::function<void(response)> done);

  // issue_token: the token endpoint: POST only (405), an authenticated user (403 "Authentication
  // required"), CSRF proof (403 "CSRF check failed"), the issue limit (403 "Rate limit exceeded"),
  // then 200 {"token": "<64 hex>", "expires_in": N}.
  response issue_token(const request& req);

  // sessions: every session, to narrow and send to.
  session_set sessions() override;
  // history: publishing with offsets and the recovery handler, per options().history.
  const channel_history& history() const noexcept { return history_; }
  // presence: the connected sessions and distinct users of `channel`.
  result<presence_info> presence(std::string_view channel);

  // stop: refuses new work and waits for queued and running handlers. Idempotent.
  void stop();

  // store / auth / tokens / limiter / out / time / options: the parts the backend was built with
  // (handlers reach them through ctx.app()).
  store::session_store& store() noexcept { return store_; }
  authenticator& auth() noexcept { return auth_; }
  token_service& tokens() noexcept { return tokens_; }
  rate_limiter& limiter() noexcept { return limiter_; }
  delivery& out() noexcept override { return out_; }
  store::channel_repository& channel_store() noexcept override { return store_; }
  const clock& time() const noexcept { return clock_; }
  const backend_options& options() const noexcept { return options_; }
  // log: writes `line` as an error line (msg=line) to options().log.
  void log(std::string_view line) const override;
  // metrics: the backend's counters (see metrics.hpp); metrics_text: them as /metrics serves them.
  backend_metrics& metrics() noexcept { return *metrics_; }
  std::string metrics_text() const;

 private:
  friend class request_context;
  struct impl;
  // handle_checked: the checks and the handler; `handler` gets the handler a message named.
  response handle_checked(view& v, std::string_view route, const request& req, std::string& handler);
  // log_failure: an error line with the request's fields (trace_id, request_id, connection_id,
  // route, handler) and `error`.
  void log_failure(const request& req, std::string_view route, std::string_view handler, std::string_view what,
                   std::string_view error) const;
  void log_failure(const request_context& ctx, std::string_view what, std::string_view error) const;
  response run_connect(view& v, request_context& ctx);
  response run_disconnect(view& v, request_context& ctx);
  response run_message(view& v, request_context& ctx);
  response call(const handler_fn& fn, request_context& ctx);

  store::session_store& store_;
  delivery& out_;
  authenticator& auth_;
  const clock& clock_;
  backend_options options_;
  token_service tokens_;
  rate_limiter limiter_;
  channel_history history_;
  std::shared_ptr<backend_metrics> metrics_;
  std::unique_ptr<impl> impl_;
};

}  // namespace apigw::dispatch

namespace apigw {
using dispatch::backend;
}  // namespace apigw
