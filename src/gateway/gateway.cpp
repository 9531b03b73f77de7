// The local API Gateway, wired from its rooms (docs/design/gateway.md):
//   front_door       the listener: WebSocket upgrades and $connect, HTTP requests routed on
//   management_api   {stage}/@connections/{id}: post, get, delete (SigV4-checked)
//   control_plane    /v2/...: the apigatewayv2 subset, one file per resource family
//   served_config    the configuration served now, and the state file
//   session          each connection's reader, writer, watchdog and close; the registry; the sweeper
//   deadline         the pure idle / 2-hour / stall / close deadline decision
//   integration_*    building and sending integration requests (a client per shard)
// This file owns them and runs start and shutdown.
#include "apigw/gateway/gateway.hpp"

#include "apigw/gateway/error.hpp"
#include "apigw/net/error.hpp"
#include "apigw/net/tls.hpp"
#include "gateway/context.hpp"
#include "gateway/front_door.hpp"
#include "gateway/management_api.hpp"
#include "gateway/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace apigw::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
using detail::close_cause;
using detail::steady;

namespace {

// io_executor_of: the io_context executor inside `ex` (connections get strands of it).
detail::io_executor io_executor_of(const asio::any_io_executor& ex) {
  using detail::io_executor;
  if (const auto* p = ex.target<io_executor>()) return *p;
  using tracked = decltype(asio::require(std::declval<io_executor>(), asio::execution::outstanding_work.tracked));
  if (const auto* p = ex.target<tracked>()) return asio::require(*p, asio::execution::outstanding_work.untracked);
  throw std::invalid_argument("apigw::gateway::gateway needs an io_context's executor");
}

// shard_executors: the shards as the integration clients take them; none given: `ex` alone.
std::vector<asio::any_io_executor> shard_executors(const asio::any_io_executor& ex,
                                                   const std::vector<detail::io_executor>& shards) {
  if (shards.empty()) return {ex};
  return {shards.begin(), shards.end()};
}

}  // namespace

struct gateway::impl {
  impl(const asio::any_io_executor& ex, std::vector<detail::io_executor> shards, gateway_config config,
       gateway_options options)
      : ctx(std::make_shared<detail::context>(shard_executors(ex, shards), std::move(config), std::move(options))),
        conns(std::make_shared<detail::sessions>(
            ctx, shards.empty() ? std::vector<detail::io_executor>{io_executor_of(ex)} : shards)),
        mgmt(std::make_shared<detail::management_api>(ctx, conns)),
        door(ex, ctx, conns, mgmt) {}

  // close_all: asks every connection to close with `cause` (on its strand).
  void close_all(const char* name, std::uint16_t code, const std::string& reason) {
    for (auto& c : conns->snapshot()) {
      asio::post(c->strand,
                 [s = conns, c, name, code, reason] { s->request_close(c, close_cause(name, code, reason)); });
    }
  }

  // cut_all: closes every connection's socket at once (each session ends and fires $disconnect).
  void cut_all() {
    for (auto& c : conns->snapshot()) asio::post(c->strand, [c] { detail::sessions::cut(*c); });
  }

  void stop_accepting() {
    ctx->stopping.store(true);
    door.stop_accepting();
  }

  std::shared_ptr<detail::context> ctx;
  std::shared_ptr<detail::sessions> conns;
  std::shared_ptr<detail::management_api> mgmt;
  detail::front_door door;
  std::shared_ptr<net::server_tls> tls;  // set when the gateway speaks TLS
};

gateway::gateway(asio::any_io_executor ex, gateway_config config, gateway_options options)
    : impl_(std::make_shared<impl>(ex, std::vector<detail::io_executor>{}, std::move(config), std::move(options))) {}

gateway::gateway(asio::any_io_executor ex, std::vector<asio::io_context::executor_type> shards, gateway_config config,
                 gateway_options options)
    : impl_(std::make_shared<impl>(ex, std::move(shards), std::move(config), std::move(options))) {}

gateway::~gateway() {
  impl_->stop_accepting();
  impl_->conns->stop_sweeper();
  impl_->cut_all();
}

result<void> gateway::start() {
  const auto& opts = impl_->ctx->opts;
  if (!opts.integration_ca_pem.empty()) {
    if (auto ca = net::certificate_sha256(opts.integration_ca_pem); !ca) {
      return failure{error::invalid_config, "gateway_options::integration_ca_pem: " + ca.error().message};
    }
  }
  if (opts.tls_certificate.empty() != opts.tls_key.empty()) {
    return failure{error::invalid_config,
                   "gateway_options: tls_certificate and tls_key go together (both set for TLS, neither without)"};
  }
  if (!opts.tls_certificate.empty()) {
    auto tls = net::server_tls::from_files({opts.tls_certificate, opts.tls_key});
    if (!tls) return tls.error();
    impl_->tls = std::move(*tls);
  }
  if (auto r = impl_->ctx->served.load_state(); !r) return r;
  if (auto r = impl_->door.start(impl_->tls); !r) return r;
  impl_->ctx->log.info("listening", "address", opts.address, "port", impl_->door.port(), "tls",
                       impl_->tls ? "on" : "off", "auth", opts.auth == auth_mode::sigv4 ? "sigv4" : "none");
  impl_->conns->start_sweeper();
  return ok();
}

std::uint16_t gateway::port() const noexcept {
  return impl_->door.port();
}

result<void> gateway::reload_tls() {
  if (!impl_->tls) return failure{net::error::tls_config_invalid, "the gateway does not speak TLS; nothing to reload"};
  auto r = impl_->tls->reload();
  if (r) impl_->ctx->log.info("TLS certificate reloaded", "certificate", impl_->ctx->opts.tls_certificate.string());
  return r;
}

asio::awaitable<void> gateway::shutdown(std::chrono::milliseconds grace) {
  auto self = impl_;
  auto& conns = *self->conns;
  const auto& opts = self->ctx->opts;
  self->ctx->log.info("shutting down", "connections", conns.active());
  self->stop_accepting();
  self->close_all("shutdown", opts.choices.shutdown_close_code, "Going away");
  // Clients get `close_timeout` (at most half the grace) to answer the close; the rest are cut,
  // which ends their sessions and sends their $disconnect within the remaining grace.
  const auto start = steady::now();
  const auto soft = start + std::min<steady::duration>(opts.limits.close_timeout, grace / 2);
  const auto hard = start + grace;
  asio::steady_timer tick(co_await asio::this_coro::executor);
  bool cut_done = false;
  while (conns.active() > 0 && steady::now() < hard) {
    if (!cut_done && steady::now() >= soft) {
      cut_done = true;
      self->cut_all();
    }
    tick.expires_after(std::chrono::milliseconds(10));
    co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  conns.stop_sweeper();
  self->ctx->close_integrations();
  self->ctx->log.info("stopped", "left", conns.active());
}

gateway_stats gateway::stats() const {
  const auto& m = impl_->ctx->counters;
  return gateway_stats{m.connections_open.load(), m.connections_total.load(), m.messages_in.load(),
                       m.messages_out.load(), m.disconnects_fired.load()};
}

std::string gateway::metrics_text() const {
  return impl_->ctx->counters.render();
}

}  // namespace apigw::gateway
