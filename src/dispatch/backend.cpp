// The backend: the checks of every integration request, handler selection, the worker pool, the
// token endpoint and presence. The order of the checks and every status/body is documented in
// backend.hpp and docs/design/dispatch.md.
#include "apigw/dispatch/backend.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/dispatch/checks.hpp"
#include "apigw/dispatch/error.hpp"
#include "dispatch/gateway_cache.hpp"
#include "dispatch/worker_pool.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <set>

namespace apigw::dispatch {
namespace {

response bad_headers() {
  return response::text(400, "Invalid request headers");
}
response unavailable() {
  return response::text(503, "Service Unavailable");
}
response invalid_format() {
  return response::text(400, "Invalid request format (1)");
}
response permission_denied() {
  return response::text(403, "Permission Denied");
}

bool missing_any(const request& req, const std::vector<std::string>& names) {
  return std::ranges::any_of(names, [&](const std::string& n) { return !req.header_value(n); });
}

}  // namespace

struct backend::impl {
  impl(backend& owner, const backend_options& o)
      : gateways(owner.store_, o.gateway_cache_ttl, o.unknown_gateway_cache_ttl), pool(o.workers, o.queue_capacity) {}
  detail::gateway_cache gateways;
  detail::worker_pool pool;
};

backend::backend(store::session_store& store, delivery& out, authenticator& auth, const clock& clk,
                 backend_options options)
    : store_(store),
      out_(out),
      auth_(auth),
      clock_(clk),
      options_(std::move(options)),
      tokens_(store, clk, options_.tokens),
      limiter_(&store, options_.rate_limit),
      history_(store, clk, options_.history),
      metrics_(std::make_shared<backend_metrics>()),
      impl_(std::make_unique<impl>(*this, options_)) {
  out_.observe(metrics_);
}

backend::~backend() {
  stop();
  out_.observe(nullptr);
}

std::string backend::metrics_text() const {
  return metrics_->render(impl_->pool.queued(), impl_->pool.capacity());
}

void backend::stop() {
  impl_->pool.stop();
}

void backend::log(std::string_view line) const {
  options_.log.error(line);
}

void backend::log_failure(const request& req, std::string_view route, std::string_view handler, std::string_view what,
                          std::string_view error) const {
  options_.log.error(what, "trace_id", req.header_value("X-Amzn-Trace-Id").value_or(""), "request_id",
                     req.header_value(options_.request_id_header).value_or(""), "connection_id",
                     req.header_value("connectionId").value_or(""), "route", route, "handler", handler, "error", error);
}

void backend::log_failure(const request_context& ctx, std::string_view what, std::string_view error) const {
  log_failure(ctx.raw(), ctx.route(), ctx.handler_name(), what, error);
}

session_set backend::sessions() {
  return {out_, store_, {}, &history_};
}

result<void> backend::submit(view& v, std::string route, request req, std::function<void(response)> done) {
  auto task = [this, &v, route = std::move(route), req = std::move(req), done = std::move(done)]() {
    done(handle(v, route, req));
  };
  switch (impl_->pool.post(std::move(task))) {
    case detail::worker_pool::outcome::queued:
      return ok();
    case detail::worker_pool::outcome::full:
      return failure{error::overloaded};
    case detail::worker_pool::outcome::stopped:
      break;
  }
  return failure{error::shutting_down};
}

response backend::call(const handler_fn& fn, request_context& ctx) {
  try {
    return fn(ctx);
  } catch (const std::exception& e) {
    log_failure(ctx, "handler threw", e.what());
  } catch (...) {
    log_failure(ctx, "handler threw", "not a std::exception");
  }
  return response::text(500, "Internal Server Error");
}

response backend::handle(view& v, std::string_view route, const request& req) {
  const auto started = std::chrono::steady_clock::now();
  std::string handler;
  auto r = handle_checked(v, route, req, handler);
  const auto took = std::chrono::steady_clock::now() - started;
  metrics_->request(route, r.status, took);
  // The access line: the trace id ties it to the gateway's line for the same request.
  const auto l = r.status >= 500 ? logging::level::warn : logging::level::info;
  if (options_.log.enabled(l)) {
    options_.log.log(l, "request", "trace_id", req.header_value("X-Amzn-Trace-Id").value_or(""), "request_id",
                     req.header_value(options_.request_id_header).value_or(""), "connection_id",
                     req.header_value("connectionId").value_or(""), "route", route, "handler", handler, "status",
                     r.status, "duration_ms", logging::millis(took));
  }
  return r;
}

response backend::handle_checked(view& v, std::string_view route, const request& req, std::string& handler) {
  const auto& sec = options_.security;
  if (req.method != "POST") {
    auto r = response::text(405, "Method Not Allowed");
    r.headers.push_back({"Allow", "POST"});
    return r;
  }
  if (req.body.size() > k_max_message_bytes) return response::text(413, "Payload Too Large");
  if (missing_any(req, sec.required_headers) || missing_any(req, sec.additional_required_headers)) {
    return bad_headers();
  }
  // The gateway's identity: a registered API id, and the shared secret only the gateway knows.
  // Read with value_or: an application may have removed a header from required_headers.
  const std::string api_id{req.header_value("X-Amzn-Apigateway-Api-Id").value_or("")};
  if (api_id.empty()) return bad_headers();
  if (!sec.shared_secret.empty()) {
    const auto secret = req.header_value(sec.shared_secret_header);
    if (!secret || !constant_time_equal(*secret, sec.shared_secret)) return bad_headers();
  }
  auto gw = impl_->gateways.find(api_id, clock_.now());
  if (!gw) {
    log_failure(req, route, "", "gateway lookup failed", gw.error().message);
    return unavailable();
  }
  if (!*gw) return bad_headers();
  const std::string connection_id{req.header_value("connectionId").value_or("")};
  if (!is_valid_connection_id(connection_id)) return response::text(400, "Invalid connection id");

  request_context ctx(*this, *this, req, std::string{route}, connection_id);
  ctx.gateway_ = std::move(**gw);
  if (route == "connect") return run_connect(v, ctx);
  if (req.header_value("User-Agent").value_or("") != gateway_user_agent(api_id)) {
    return response::text(400, "Unexpected Useragent");
  }
  if (route == "disconnect") return run_disconnect(v, ctx);
  auto r = run_message(v, ctx);
  handler = ctx.handler_name();
  return r;
}

response backend::run_connect(view& v, request_context& ctx) {
  const auto& sec = options_.security;
  const auto& req = ctx.raw();
  const auto ip = client_ip(req.header_value("X-Forwarded-For").value_or(""), sec.trusted_proxy_hops);
  if (!ip) return bad_headers();
  ctx.client_ip_ = *ip;
  auto who = auth_.from_request(req);
  if (!who) {
    log_failure(ctx, "authenticator failed", who.error().message);
    return unavailable();
  }
  ctx.user_ = std::move(*who);
  const auto now = clock_.now();

  auto allowed = limiter_.check(*ip, ctx.user_.user, now);
  if (!allowed) {
    log_failure(ctx, "rate limiter failed", allowed.error().message);
    return unavailable();
  }
  // refuse: every refusal from here on counts against the client's limit.
  auto refuse = [&](response r) {
    if (auto rec = limiter_.record(*ip, ctx.user_.user, false, now); !rec) {
      log_failure(ctx, "recording a connection attempt failed", rec.error().message);
    }
    return r;
  };
  if (!allowed->allowed) {
    metrics_->rate_limited("connect");
    return refuse(response::text(400, "Too many connection attempts"));
  }

  const auto missing = static_cast<std::size_t>(
      std::ranges::count_if(sec.connection_headers, [&](const std::string& n) { return !req.header_value(n); }));
  if (missing > 0) return refuse(response::text(400, fmt::format("Missing {} headers", missing)));
  const auto host = req.header_value("Host").value_or("");
  if (!host_allowed(host, sec.allowed_hosts)) return refuse(response::text(400, "Host is not allowed"));
  const auto origin = req.header_value("Origin").value_or("");
  if (!sec.allowed_origins.empty()) {
    if (!origin_allowed(origin, sec.allowed_origins)) return refuse(response::text(400, "Origin is not allowed"));
  } else if (sec.check_origin_host && !origin_matches_host(origin, host)) {
    return refuse(response::text(400, "Host is not in Origin"));
  }

  // The channel is checked before the token is consumed, so a bad name does not burn the token.
  std::vector<std::string> channels;
  if (auto requested = req.query_value("channel"); requested && !requested->empty()) {
    if (!is_valid_channel_name(*requested)) return refuse(response::text(400, "Invalid channel name"));
    channels.push_back(std::move(*requested));
  } else if (!ctx.gateway_->default_channel.empty()) {
    if (is_valid_channel_name(ctx.gateway_->default_channel)) {
      channels.push_back(ctx.gateway_->default_channel);
    } else {
      options_.log.warn("invalid default channel; connecting without one", "gateway", ctx.gateway_->name,
                        "connection_id", ctx.connection_id());
    }
  }

  if (sec.use_ws_token) {
    if (ctx.user_.session_key.empty()) return refuse(response::text(400, "Invalid session"));
    auto token_user = tokens_.consume(req.query_value("ws_token").value_or(""), ctx.user_.session_key);
    if (!token_user) {
      if (token_user.error() == error::invalid_token) {
        metrics_->token_refused("invalid");
        return refuse(response::text(400, "Invalid or expired token"));
      }
      log_failure(ctx, "token check failed", token_user.error().message);
      return unavailable();
    }
    auto token_identity = auth_.for_user(*token_user);
    if (!token_identity) {
      if (token_identity.error() != condition::not_found) {
        log_failure(ctx, "loading the token's user failed", token_identity.error().message);
        return unavailable();
      }
      return refuse(response::text(400, "Invalid or expired token"));
    }
    token_identity->session_key = ctx.user_.session_key;
    ctx.user_ = std::move(*token_identity);
  }

  if (!v.rule().permits(ctx.user_)) return refuse(permission_denied());
  for (const auto& ch : channels) {
    if (!v.channel_allowed(ctx.user_, ch)) return refuse(permission_denied());
  }
  if (const auto& check = v.connection_check(); check) {
    std::optional<std::string> refusal;
    try {
      refusal = check(ctx);
    } catch (const std::exception& e) {
      log_failure(ctx, "connection check threw", e.what());
      return refuse(response::text(500, "Internal Server Error"));
    }
    if (refusal) return refuse(response::text(400, *refusal));
  }

  const auto store_started = std::chrono::steady_clock::now();
  auto created = store_.create_session(ctx.connection_id(), ctx.user_.user, ctx.gateway_->id, channels);
  metrics_->store_call(std::chrono::steady_clock::now() - store_started);
  if (!created) {
    if (created.error() == condition::conflict) {
      options_.log.warn("duplicate connection id", "connection_id", ctx.connection_id(), "error",
                        created.error().message);
      return refuse(response::text(409, "Duplicate connection id"));
    }
    log_failure(ctx, "creating the session failed", created.error().message);
    return unavailable();
  }
  ctx.session_ = std::move(*created);
  if (auto rec = limiter_.record(*ip, ctx.user_.user, true, now); !rec) {
    log_failure(ctx, "recording a connection attempt failed", rec.error().message);
  }
  if (!v.connect_handler()) return response::ok();
  auto r = call(v.connect_handler(), ctx);
  if (r.status < 200 || r.status >= 300) {
    const std::string ids[] = {ctx.connection_id()};
    (void)store_.mark_disconnected(ids);
  }
  return r;
}

response backend::run_disconnect(view& v, request_context& ctx) {
  auto touched = store_.touch(ctx.connection_id());
  if (!touched) {
    if (touched.error() == condition::not_found) {
      options_.log.info("$disconnect for an unknown connection: nothing to do", "connection_id", ctx.connection_id());
      return response::ok();
    }
    log_failure(ctx, "disconnect failed", touched.error().message);
    return unavailable();
  }
  const std::string ids[] = {ctx.connection_id()};
  if (auto marked = store_.mark_disconnected(ids); !marked) {
    log_failure(ctx, "disconnect failed", marked.error().message);
    return unavailable();
  }
  touched->connected = false;
  ctx.session_ = std::move(*touched);
  if (!v.disconnect_handler()) return response::ok();
  if (ctx.session_->user) {
    if (auto who = auth_.for_user(*ctx.session_->user); who) ctx.user_ = std::move(*who);
  }
  return call(v.disconnect_handler(), ctx);
}

response backend::run_message(view& v, request_context& ctx) {
  const auto& sec = options_.security;
  auto body = parse_json_object(ctx.raw().body);
  if (!body) return invalid_format();
  ctx.body_ = std::move(*body);

  // The handler: the first non-empty string of the handler key, then the action key.
  bool named = false;
  for (const auto* key : {&sec.handler_key, &sec.action_key}) {
    if (!ctx.body_.contains(*key)) continue;
    named = true;
    if (const auto name = get_string(ctx.body_, *key); name && !name->empty()) {
      ctx.handler_ = std::string{*name};
      break;
    }
  }
  const view::entry* entry = nullptr;
  const handler_fn* fn = nullptr;
  if (!ctx.handler_.empty()) {
    entry = v.find(ctx.handler_);
  } else if (named) {
    return invalid_format();
  } else if (ctx.route() != "default" && (entry = v.find(ctx.route())) != nullptr) {
    ctx.handler_ = ctx.route();  // a custom route's own handler
  } else if (v.default_handler()) {
    fn = &v.default_handler();
  } else {
    return invalid_format();
  }

  const auto store_started = std::chrono::steady_clock::now();
  auto touched = store_.touch(ctx.connection_id());
  metrics_->store_call(std::chrono::steady_clock::now() - store_started);
  if (!touched) {
    if (touched.error() == condition::not_found) return response::text(404, "Session not found");
    log_failure(ctx, "loading the session failed", touched.error().message);
    return unavailable();
  }
  ctx.session_ = std::move(*touched);
  // The recovery request is answered by the toolkit unless the view registered that name itself.
  const bool recover = entry == nullptr && ctx.handler_ == k_recover_handler;
  if (!ctx.handler_.empty() && entry == nullptr && !recover) {
    if (sec.notify_unknown_handler) {
      (void)ctx.reply(json::object{{"type", "error"}, {"message", "Unknown handler"}});
    }
    return response::text(400, "Unknown handler");
  }
  if (ctx.session_->user) {
    auto who = auth_.for_user(*ctx.session_->user);
    if (who) {
      ctx.user_ = std::move(*who);
    } else if (who.error() != condition::not_found) {
      log_failure(ctx, "loading the session's user failed", who.error().message);
      return unavailable();
    }
  }
  if (!v.rule().permits(ctx.user_)) return permission_denied();
  if (recover) {
    const handler_fn builtin = [&](request_context& c) { return history_.recover(v, c); };
    return call(builtin, ctx);
  }
  if (entry != nullptr) {
    if (!entry->rule.permits(ctx.user_)) return permission_denied();
    fn = &entry->fn;
  }
  return call(*fn, ctx);
}

response backend::issue_token(const request& req) {
  if (req.method != "POST") {
    auto r = response::text(405, "Method Not Allowed");
    r.headers.push_back({"Allow", "POST"});
    return r;
  }
  auto who = auth_.from_request(req);
  if (!who) {
    options_.log.error("authenticator failed", "route", "token", "error", who.error().message);
    return unavailable();
  }
  if (!who->authenticated()) {
    metrics_->token_refused("unauthenticated");
    return response::text(403, "Authentication required");
  }
  if (!auth_.csrf_ok(req, *who)) {
    metrics_->token_refused("csrf");
    return response::text(403, "CSRF check failed");
  }
  auto token = tokens_.issue(*who->user, who->session_key);
  if (!token) {
    if (token.error() == error::rate_limited) {
      metrics_->token_refused("rate_limited");
      metrics_->rate_limited("token");
      return response::text(403, "Rate limit exceeded");
    }
    if (token.error() == error::not_authenticated) {
      metrics_->token_refused("unauthenticated");
      return response::text(403, "Authentication required");
    }
    options_.log.error("issuing a token failed", "route", "token", "error", token.error().message);
    return unavailable();
  }
  metrics_->token_issued();
  auto r = response::json(200, json::object{{"token", token->token}, {"expires_in", token->expires_in}});
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

result<presence_info> backend::presence(std::string_view channel) {
  presence_info info;
  std::set<store::user_id> users;
  auto visited = store_.for_each_page(store::session_query{}.in_channel(channel).connected_only(), 1000,
                                      [&](std::span<const store::session> page) {
                                        for (const auto& s : page) {
                                          if (s.user) {
                                            users.insert(*s.user);
                                          } else {
                                            ++info.anonymous_sessions;
                                          }
                                        }
                                        return true;
                                      });
  if (!visited) return visited.error();
  info.sessions = static_cast<std::int64_t>(*visited);
  info.users.assign(users.begin(), users.end());
  return info;
}

}  // namespace apigw::dispatch
